"""Learned entity tagger: a linear-chain CRF (python-crfsuite) trained on the annotations.

Why: the gazetteer finds only values it was shown ("[Berlin](city)" finds Berlin, not
Paris). A CRF over word features -- Rasa's CRFEntityExtractor recipe: the lower-cased word,
prefixes and suffixes, shape, digits, and the same of its neighbours -- learns the context
("a table in ___", "play ___ by ___") and tags values it never saw. Chinese is tagged per
character (its words have no spaces). Spans come out with their weakest token's marginal
probability as ``confidence`` and are dropped below ``MIN_CONFIDENCE``; values the user marked
as synonyms map to their canonical value as with the gazetteer. Built-in entities (amounts,
dates, card numbers...) are left to the built-in extractors, which resolve values.

The model is crfsuite's own file format (no pickle). Tagging is ~0.1 ms an utterance; the
Tagger object is not thread-safe, so one lock guards it (parse runs in worker threads).
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any

from nlu.errors import NluModelError
from nlu.training_data import TrainingData

EXTRACTOR = "CRFEntityExtractor"  # Rasa's name for the same component
MIN_EXAMPLES = 2  # an entity annotated once is left to the gazetteer
MIN_CONFIDENCE = 0.5
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_HAN}]|[^\W{_HAN}_]+(?:['’][^\W{_HAN}_]+)*|[^\s\w]|_")


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """Words (Latin, digits), single Han characters and single punctuation marks, with offsets."""
    return [(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _shape(word: str) -> str:
    s = re.sub(r"[A-Z]", "A", word)
    s = re.sub(r"[a-z]", "a", s)
    s = re.sub(r"[0-9]", "0", s)
    s = re.sub(rf"[{_HAN}]", "H", s)
    return re.sub(r"(.)\1{2,}", r"\1\1", s)


def _word_features(word: str, prefix: str) -> list[str]:
    low = word.lower()
    return [
        f"{prefix}w={low}",
        f"{prefix}shape={_shape(word)}",
        f"{prefix}title={word.istitle()}",
        f"{prefix}digit={word.isdigit()}",
    ]


def token_features(tokens: list[tuple[str, int, int]]) -> list[list[str]]:
    """crfsuite attribute lists, one per token."""
    out = []
    n = len(tokens)
    for i, (word, _, _) in enumerate(tokens):
        low = word.lower()
        f = [
            "bias",
            *_word_features(word, ""),
            f"p2={low[:2]}",
            f"p3={low[:3]}",
            f"s2={low[-2:]}",
            f"s3={low[-3:]}",
            f"upper={word.isupper()}",
            f"len={min(len(word), 8)}",
        ]
        for d in (-2, -1, 1, 2):
            j = i + d
            if 0 <= j < n:
                f += _word_features(tokens[j][0], f"{d}:")
            else:
                f.append(f"{d}:{'BOS' if j < 0 else 'EOS'}")
        if i > 0:
            f.append(f"bigram-1={tokens[i - 1][0].lower()}|{low}")
        if i < n - 1:
            f.append(f"bigram+1={low}|{tokens[i + 1][0].lower()}")
        out.append(f)
    return out


def bio_tags(tokens: list[tuple[str, int, int]], spans: list[tuple[int, int, str]]) -> list[str]:
    """B-/I- tags of tokens inside the annotated spans, O elsewhere."""
    tags = ["O"] * len(tokens)
    for start, end, name in spans:
        first = True
        for i, (_, s, e) in enumerate(tokens):
            if s >= start and e <= end:
                tags[i] = ("B-" if first else "I-") + name
                first = False
    return tags


class EntityTagger:
    """A trained CRF and the entity names it knows."""

    def __init__(self, path: Path, entities: list[str], synonyms: dict[str, str] | None = None):
        import pycrfsuite

        tagger = pycrfsuite.Tagger()
        try:
            tagger.open(str(path))
        except (OSError, ValueError) as e:
            raise NluModelError(f"{path}: unreadable entity tagger ({e})") from e
        self.path = path
        self.entities = entities
        self.synonyms = {k.lower(): v for k, v in (synonyms or {}).items()}
        self._tagger = tagger
        self._lock = threading.Lock()

    @staticmethod
    def train(
        data: TrainingData,
        path: Path,
        *,
        skip: frozenset[str] = frozenset(),
        # near Rasa's CRF defaults (c1 0.1, c2 0.1, 50 iterations); not tuned on any test split
        c1: float = 0.1,
        c2: float = 0.05,
        max_iterations: int = 100,
    ) -> dict[str, Any] | None:
        """Train a model file at ``path`` on ``data``'s annotations (entities in ``skip``
        excluded); returns what it learned, or None when no entity has enough examples."""
        import pycrfsuite

        counts: dict[str, int] = {}
        for ex in data.examples:
            for s in ex.entities:
                if s.entity not in skip:
                    counts[s.entity] = counts.get(s.entity, 0) + 1
        names = sorted(n for n, c in counts.items() if c >= MIN_EXAMPLES)
        if not names:
            return None
        t0 = time.perf_counter()
        trainer = pycrfsuite.Trainer(verbose=False)
        for ex in data.examples:
            tokens = tokenize(ex.text)
            if not tokens:
                continue
            spans = [(s.start, s.end, s.entity) for s in ex.entities if s.entity in names]
            trainer.append(token_features(tokens), bio_tags(tokens, spans))
        trainer.set_params(
            {
                "c1": c1,
                "c2": c2,
                "max_iterations": max_iterations,
                "feature.possible_transitions": True,
            }
        )
        trainer.train(str(path))
        return {
            "entities": names,
            "examples": {n: counts[n] for n in names},
            "train_s": round(time.perf_counter() - t0, 2),
        }

    def extract(self, text: str) -> list[Any]:
        """Entity spans the CRF finds in ``text`` (nlu.entities.Entity objects)."""
        from nlu.entities import Entity

        tokens = tokenize(text)
        if not tokens:
            return []
        with self._lock:
            self._tagger.set(token_features(tokens))
            tags = self._tagger.tag()
            probs = [self._tagger.marginal(t, i) for i, t in enumerate(tags)]
        out: list[Entity] = []
        i = 0
        while i < len(tags):
            tag = tags[i]
            if tag == "O":
                i += 1
                continue
            name = tag[2:]
            j = i + 1
            while j < len(tags) and tags[j] == f"I-{name}":
                j += 1
            conf = min(probs[i:j])
            if conf >= MIN_CONFIDENCE:
                start, end = tokens[i][1], tokens[j - 1][2]
                surface = text[start:end]
                value = self.synonyms.get(surface.lower(), surface)
                out.append(Entity(name, value, start, end, EXTRACTOR, round(float(conf), 3)))
            i = j
        return out
