"""In-memory NLU training data: examples with entity spans, synonyms, regexes, lookups.

One shape for every source (Rasa nlu.yml, CSV, CLINC JSON, JSONL) so the engine and the
evaluator never care where data came from. ``fingerprint`` hashes everything that affects a
trained model; it keys the training cache and is stored in the head's metadata.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field

OUT_OF_SCOPE = "out_of_scope"
_OOS_ALIASES = frozenset({"oos", "out_of_scope", "out-of-scope", "nlu_fallback", "outofscope"})


def normalise_label(label: str) -> str:
    """Map the many spellings of out-of-scope (CLINC's ``oos``) onto ``out_of_scope``."""
    label = label.strip()
    return OUT_OF_SCOPE if label.lower() in _OOS_ALIASES else label


@dataclass(frozen=True)
class EntitySpan:
    start: int
    end: int
    entity: str
    value: str
    role: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    entities: tuple[EntitySpan, ...] = ()
    line: int | None = None  # where it came from, for error messages


@dataclass
class TrainingData:
    examples: list[Example] = field(default_factory=list)
    synonyms: dict[str, str] = field(default_factory=dict)  # surface form (lower) -> canonical
    regexes: dict[str, list[str]] = field(default_factory=dict)
    lookups: dict[str, list[str]] = field(default_factory=dict)
    source: str | None = None

    @property
    def intents(self) -> list[str]:
        return sorted({e.intent for e in self.examples})

    @property
    def entity_names(self) -> list[str]:
        return sorted({s.entity for e in self.examples for s in e.entities})

    def counts(self) -> Counter[str]:
        return Counter(e.intent for e in self.examples)

    def merge(self, other: TrainingData) -> TrainingData:
        return TrainingData(
            self.examples + other.examples,
            {**self.synonyms, **other.synonyms},
            {
                k: self.regexes.get(k, []) + other.regexes.get(k, [])
                for k in {*self.regexes, *other.regexes}
            },
            {
                k: self.lookups.get(k, []) + other.lookups.get(k, [])
                for k in {*self.lookups, *other.lookups}
            },
            self.source or other.source,
        )

    def fingerprint(self) -> str:
        payload = {
            "ex": sorted(  # order-free: the writer groups examples by intent
                [e.text, e.intent, [[s.start, s.end, s.entity, s.value] for s in e.entities]]
                for e in self.examples
            ),
            "syn": sorted(self.synonyms.items()),
            "re": sorted((k, sorted(v)) for k, v in self.regexes.items()),
            "lk": sorted((k, sorted(v)) for k, v in self.lookups.items()),
        }
        blob = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()
