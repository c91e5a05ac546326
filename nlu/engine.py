"""The NLU engine: intents (+ out-of-scope), entities and emotion for one utterance.

``NluEngine.train`` turns :class:`TrainingData` into one intent head per language present
(English on MiniLM, Chinese and mixed text on multilingual e5), caches the result under
``cache_dir`` by a hash of data + config, and writes it atomically: a failed or refused
training never replaces the model already there. ``parse`` embeds once and shares that
vector between the intent and emotion heads, which is what keeps one utterance under the
25 ms budget on one core.

With ``HeadConfig.finetune_layers`` (English only, nlu/finetune.py) a second head on a tuned
MiniLM picks the intent, while the frozen head still decides out-of-scope: its threshold
comes from cross-validation on embeddings that never saw the held-out rows, which a tuned
encoder (trained on every row) cannot give without retraining it per fold.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from models.errors import ModelIncompatible
from nlu.embedders import E5, MINILM, CachedEmbedder, Embedder, make_embedder
from nlu.emotion import EmotionClassifier, EmotionResult
from nlu.entities import BUILTIN_ENTITIES, EntityExtractor
from nlu.entity_tagger import EntityTagger
from nlu.errors import NluInputError, NluTrainingError
from nlu.finetune import TunedMiniLM, finetune_minilm
from nlu.intents import HeadConfig, IntentHead, softmax
from nlu.language import detect_language
from nlu.prosody import Prosody
from nlu.rasa_format import read_nlu_yaml, write_nlu_yaml
from nlu.training_data import OUT_OF_SCOPE, TrainingData

FORMAT_VERSION = 2  # 2: the learned entity tagger (entities.crfsuite) joined the model
TAGGER_FILE = "entities.crfsuite"
MAX_CHARS = 5000
EMBEDDER_FOR = {"en": MINILM, "zh": E5}
LANGUAGES = ("en", "zh", "auto")


@dataclass
class ParseResult:
    text: str
    language: str
    intent: dict[str, Any]
    intent_ranking: list[dict[str, Any]]
    entities: list[dict[str, Any]]
    emotion: dict[str, Any] | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_rasa_dict(self) -> dict[str, Any]:
        """The Rasa ``/model/parse`` JSON shape, plus ``emotion`` and ``language``."""
        return {
            "text": self.text,
            "intent": self.intent,
            "entities": self.entities,
            "intent_ranking": self.intent_ranking,
            "emotion": self.emotion,
            "language": self.language,
        }


def _tagger(path: Path, meta: dict[str, Any], data: TrainingData) -> EntityTagger | None:
    """The model directory's learned entity tagger, if its training data taught one."""
    if "entity_tagger" not in meta:
        return None
    names = list(meta["entity_tagger"].get("entities", []))
    return EntityTagger(path / TAGGER_FILE, names, data.synonyms)


def clean_text(text: Any) -> str:
    """Validate and normalise input: refuse non-text, empty, huge; drop control junk."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise NluInputError("text is binary data, not UTF-8") from None
    if not isinstance(text, str):
        raise NluInputError(f"text must be a string, got {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise NluInputError(f"text is {len(text)} characters; the limit is {MAX_CHARS}")
    text = unicodedata.normalize("NFKC", text)
    cleaned = "".join(c if (c.isprintable() or c in " \t") else " " for c in text)
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise NluInputError("text is empty")
    if not any(c.isalnum() for c in cleaned):
        raise NluInputError("text has no letters or digits")
    return cleaned


def _split_languages(data: TrainingData, language: str) -> dict[str, TrainingData]:
    if language in ("en", "zh"):
        return {language: data}
    parts: dict[str, TrainingData] = {}
    for ex in data.examples:
        lang = detect_language(ex.text)
        parts.setdefault(
            lang, TrainingData(synonyms=data.synonyms, regexes=data.regexes, lookups=data.lookups)
        )
        parts[lang].examples.append(ex)
    return parts


def validate_training_data(data: TrainingData) -> None:
    """Refuse data a classifier cannot learn from, naming what is wrong and where."""
    counts = data.counts()
    in_scope = [i for i in counts if i != OUT_OF_SCOPE]
    if len(in_scope) < 2:
        raise NluTrainingError(
            f"need at least 2 intents to train, found {len(in_scope)}: {in_scope}"
        )
    thin = sorted(i for i, n in counts.items() if n < 2)
    if thin:
        where = []
        for name in thin[:5]:
            line = next((e.line for e in data.examples if e.intent == name), None)
            where.append(f"{name!r}" + (f" (line {line})" if line else ""))
        src = f" in {data.source}" if data.source else ""
        raise NluTrainingError(
            f"intent {', '.join(where)}{src} has only 1 example; add at least one more (2 minimum, 10+ recommended)"  # noqa: E501
        )


class NluEngine:
    """Trained NLU for one bot: per-language intent heads, entity extractor, emotion head."""

    def __init__(
        self,
        *,
        heads: dict[str, IntentHead],
        embedders: dict[str, Embedder],
        extractor: EntityExtractor,
        emotion: EmotionClassifier | None,
        meta: dict[str, Any],
        tuned: dict[str, tuple[TunedMiniLM, IntentHead]] | None = None,
    ):
        self.heads = heads
        self.embedders = embedders
        self.extractor = extractor
        self.emotion = emotion
        self.meta = meta
        # language -> (tuned encoder, head on it): picks the intent once ``heads`` says in-scope
        self.tuned = tuned or {}

    # --- training / loading ------------------------------------------------------------
    @classmethod
    def train(
        cls,
        data: TrainingData,
        *,
        registry: Any,
        language: str = "auto",
        cache_dir: Path,
        config: HeadConfig | None = None,
        emotion: EmotionClassifier | None = None,
        calibrate: bool = True,
        embedder_factory: Callable[[str], Embedder] | None = None,
    ) -> NluEngine:
        """Train (or fetch from cache) a model; atomic, so a failure keeps the old one."""
        if language not in LANGUAGES:
            raise NluTrainingError(f"language must be one of {LANGUAGES}, got {language!r}")
        validate_training_data(data)
        parts = _split_languages(data, language)
        key_src = json.dumps(
            {
                "v": FORMAT_VERSION,
                "fp": data.fingerprint(),
                "lang": language,
                "cfg": (config or HeadConfig()).as_dict(),
                "cal": calibrate,
            },
            sort_keys=True,
        )
        key = hashlib.sha256(key_src.encode()).hexdigest()[:16]
        target = cache_dir / f"nlu-{key}"
        if (target / "meta.json").exists():
            return cls.load(
                target,
                registry,
                emotion=emotion,
                expected_fingerprint=data.fingerprint(),
                embedder_factory=embedder_factory,
            )
        cache_dir.mkdir(parents=True, exist_ok=True)
        heads: dict[str, IntentHead] = {}
        embedders: dict[str, Embedder] = {}
        tuned: dict[str, tuple[TunedMiniLM, IntentHead]] = {}
        finetune_info: dict[str, dict] = {}
        for lang, part in parts.items():
            intents = set(part.intents) - {OUT_OF_SCOPE}
            if len(intents) < 2:
                continue  # a stray sentence in the other language: the other head covers it
            emb_name = EMBEDDER_FOR[lang]
            base = (
                embedder_factory(emb_name)
                if embedder_factory
                else make_embedder(emb_name, registry=registry)
            )
            embedder = CachedEmbedder(base, cache_dir)
            texts = [e.text for e in part.examples]
            vecs = embedder.encode(texts)
            # Chinese has no spaces: its n-grams are characters whatever else the config says
            cfg = replace(config, char_only=True) if config and lang == "zh" else config
            cfg = cfg or HeadConfig(char_only=(lang == "zh"))
            try:
                heads[lang] = IntentHead.fit(
                    vecs, texts, [e.intent for e in part.examples], cfg, calibrate=calibrate
                )
            except ValueError as e:
                raise NluTrainingError(f"training the {lang} intent head failed: {e}") from e
            embedders[lang] = embedder.inner
            if cfg.finetune_layers and emb_name == MINILM and embedder_factory is None:
                intents_of = [e.intent for e in part.examples]
                encoder, finetune_info[lang] = finetune_minilm(
                    registry,
                    texts,
                    intents_of,
                    layers=cfg.finetune_layers,
                    epochs=cfg.finetune_epochs,
                    frozen=vecs,
                )
                tuned[lang] = (
                    encoder,
                    IntentHead.fit(encoder.encode(texts), texts, intents_of, cfg, calibrate=False),
                )
        if not heads:
            raise NluTrainingError("no language has 2 or more intents to learn")
        meta = {
            "format_version": FORMAT_VERSION,
            "fingerprint": data.fingerprint(),
            "language": language,
            "heads": {
                lang: {
                    "embedder": EMBEDDER_FOR[lang],
                    "labels": h.labels,
                    **({"finetune": finetune_info[lang]} if lang in tuned else {}),
                }
                for lang, h in heads.items()
            },
        }
        tmp = Path(tempfile.mkdtemp(prefix=".nlu-tmp-", dir=cache_dir))
        try:
            for lang, head in heads.items():
                head.save(tmp, f"intent_{lang}")
            for lang, (encoder, head) in tuned.items():
                encoder.save(tmp / f"tuned_{lang}.safetensors")
                head.save(tmp, f"intent_tuned_{lang}")
            (tmp / "nlu.yml").write_text(write_nlu_yaml(data), encoding="utf-8")
            learned = EntityTagger.train(data, tmp / TAGGER_FILE, skip=BUILTIN_ENTITIES)
            if learned is not None:
                meta["entity_tagger"] = learned
            (tmp / "meta.json").write_text(
                json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8"
            )
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return cls(
            heads=heads,
            embedders=embedders,
            extractor=EntityExtractor(data, tagger=_tagger(target, meta, data)),
            emotion=emotion,
            meta={**meta, "path": str(target)},
            tuned=tuned,
        )

    @classmethod
    def load(
        cls,
        path: Path,
        registry: Any,
        *,
        emotion: EmotionClassifier | None = None,
        expected_fingerprint: str | None = None,
        embedder_factory: Callable[[str], Embedder] | None = None,
    ) -> NluEngine:
        """Load a trained model directory; refuse one whose metadata does not match."""
        path = Path(path)
        try:
            meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise ModelIncompatible(f"{path}: no readable meta.json ({e})") from e
        if meta.get("format_version") != FORMAT_VERSION:
            raise ModelIncompatible(
                f"{path}: NLU model format {meta.get('format_version')} != {FORMAT_VERSION}; retrain with `hotline nlu train`"  # noqa: E501
            )
        if expected_fingerprint is not None and meta.get("fingerprint") != expected_fingerprint:
            raise ModelIncompatible(
                f"{path}: trained on different data (fingerprint mismatch); retrain"
            )
        data = read_nlu_yaml(path / "nlu.yml")
        if data.fingerprint() != meta.get("fingerprint"):
            raise ModelIncompatible(f"{path}: stored training data does not match its fingerprint")
        heads, embedders, tuned = {}, {}, {}
        for lang, info in meta["heads"].items():
            if info.get("embedder") != EMBEDDER_FOR.get(lang):
                raise ModelIncompatible(
                    f"{path}: head {lang} was trained on {info.get('embedder')}"
                )
            head = IntentHead.load(path, f"intent_{lang}")
            if head.labels != info["labels"]:
                raise ModelIncompatible(
                    f"{path}: head {lang} label list does not match its metadata"
                )
            heads[lang] = head
            name = info["embedder"]
            embedders[lang] = (
                embedder_factory(name)
                if embedder_factory
                else make_embedder(name, registry=registry)
            )
            if "finetune" in info:
                tuned_head = IntentHead.load(path, f"intent_tuned_{lang}")
                if tuned_head.labels != head.labels:
                    raise ModelIncompatible(f"{path}: tuned {lang} head labels do not match")
                encoder = TunedMiniLM.load(registry, path / f"tuned_{lang}.safetensors")
                tuned[lang] = (encoder, tuned_head)
        return cls(
            heads=heads,
            embedders=embedders,
            extractor=EntityExtractor(data, tagger=_tagger(path, meta, data)),
            emotion=emotion,
            meta={**meta, "path": str(path)},
            tuned=tuned,
        )

    # --- inference ----------------------------------------------------------------------
    def _route(self, text: str, language: str | None) -> str:
        lang = language if language in ("en", "zh") else detect_language(text)
        if lang not in self.heads:
            lang = "zh" if "zh" in self.heads else next(iter(self.heads))
        return lang

    def parse(
        self,
        text: str,
        *,
        language: str | None = None,
        prosody: Prosody | None = None,
        today: date | None = None,
        ranking: int = 10,
    ) -> ParseResult:
        """Intent, entities and emotion of one utterance (raises NluInputError on bad text)."""
        cleaned = clean_text(text)
        lang = self._route(cleaned, language)
        head = self.heads[lang]
        if lang in self.tuned:
            vec, tuned_vec = self.tuned[lang][0].encode_pair([cleaned])
        else:
            vec, tuned_vec = self.embedders[lang].encode([cleaned]), None
        logits = head.logits(vec, [cleaned])
        probs = softmax(logits)[0]
        name, conf = head.decide(probs[None, :], logits)[0]
        if tuned_vec is not None and name != OUT_OF_SCOPE:
            probs = softmax(self.tuned[lang][1].logits(tuned_vec, [cleaned]))[0]
            name, conf = head.labels[int(np.argmax(probs))], float(probs.max())
        order = np.argsort(-probs)[:ranking]
        intent_ranking = [{"name": head.labels[i], "confidence": float(probs[i])} for i in order]
        if name == OUT_OF_SCOPE and all(r["name"] != OUT_OF_SCOPE for r in intent_ranking):
            intent_ranking.insert(0, {"name": OUT_OF_SCOPE, "confidence": conf})
        entities = [
            e.as_dict() for e in self.extractor.extract(cleaned, language=lang, today=today)
        ]
        emotion: EmotionResult | None = None
        if self.emotion is not None:
            emotion = self.emotion.predict(
                cleaned,
                language=lang,
                prosody=prosody,
                embedding=(self.embedders[lang].name, vec[0]),
            )
        return ParseResult(
            text=cleaned,
            language=lang,
            intent={"name": name, "confidence": conf},
            intent_ranking=intent_ranking,
            entities=entities,
            emotion=emotion.as_dict() if emotion else None,
        )

    async def aparse(
        self, text: str, *, language: str | None = None, prosody: Prosody | None = None
    ) -> ParseResult:
        """``parse`` in a worker thread, so the event loop (and the audio path) keeps running."""
        return await asyncio.to_thread(self.parse, text, language=language, prosody=prosody)

    def classify(self, texts: list[str], *, language: str | None = None) -> list[tuple[str, float]]:
        """Batch intent decisions (for evaluation and throughput benchmarks)."""
        out: list[tuple[str, float]] = [("", 0.0)] * len(texts)
        by_lang: dict[str, list[int]] = {}
        for i, t in enumerate(texts):
            by_lang.setdefault(self._route(t, language), []).append(i)
        for lang, idx in by_lang.items():
            batch = [texts[i] for i in idx]
            if lang in self.tuned:
                vecs, tuned_vecs = self._encode_pairs(lang, batch)
            else:
                vecs, tuned_vecs = self.embedders[lang].encode(batch), None
            logits = self.heads[lang].logits(vecs, batch)
            decided = self.heads[lang].decide(softmax(logits), logits)
            if tuned_vecs is not None:
                probs = softmax(self.tuned[lang][1].logits(tuned_vecs, batch))
                labels = self.heads[lang].labels
                for k, row in enumerate(probs):
                    if decided[k][0] != OUT_OF_SCOPE:
                        decided[k] = (labels[int(np.argmax(row))], float(row.max()))
            for i, res in zip(idx, decided, strict=True):
                out[i] = res
        return out

    def _encode_pairs(self, lang: str, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Frozen and tuned vectors, in batches (one padded batch of 10 000 would not fit)."""
        encoder = self.tuned[lang][0]
        pairs = [encoder.encode_pair(texts[i : i + 64]) for i in range(0, len(texts), 64)]
        return np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])
