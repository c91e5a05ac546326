"""Scoring an engine on labelled data: the numbers ``hotline nlu/emotion eval`` print.

Intent metrics treat ``out_of_scope`` as a label (accuracy, macro-F1) and also report
in-scope accuracy and OOS precision/recall, the CLINC150 protocol (Larson et al. 2019).
Entity F1 is micro over (entity, value) pairs per utterance; a predicted value matches if
it equals the gold value or the gold value equals the surface text it was found in
(builtins normalise "$5" to "5.00 USD", test files usually hold the surface form).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import f1_score

from nlu.corpora import GOEMOTIONS_LABELS, read_goemotions
from nlu.emotion import TAXONOMY, EmotionClassifier
from nlu.errors import NluDataError, NluInputError
from nlu.language import detect_language
from nlu.training_data import OUT_OF_SCOPE, TrainingData

INTENT_KEYS = (
    "n",
    "accuracy",
    "macro_f1",
    "in_scope_accuracy",
    "oos_precision",
    "oos_recall",
    "entity_f1",
)
EMOTION_KEYS = ("n", "accuracy", "macro_f1", "escalate_f1")


def _ratio(num: float, den: float) -> float | None:
    return float(num / den) if den else None


def intent_metrics(gold: list[str], pred: list[str]) -> dict[str, Any]:
    g, p = np.array(gold), np.array(pred)
    in_scope = g != OUT_OF_SCOPE
    oos_g, oos_p = g == OUT_OF_SCOPE, p == OUT_OF_SCOPE
    labels = sorted(set(gold))
    return {
        "n": len(gold),
        "accuracy": float((g == p).mean()) if len(g) else None,
        "macro_f1": float(f1_score(g, p, labels=labels, average="macro", zero_division=0))
        if len(g)
        else None,
        "in_scope_accuracy": _ratio(float((g == p)[in_scope].sum()), float(in_scope.sum())),
        "oos_precision": _ratio(float((oos_g & oos_p).sum()), float(oos_p.sum()))
        if oos_g.any()
        else None,
        "oos_recall": _ratio(float((oos_g & oos_p).sum()), float(oos_g.sum())),
    }


def _norm(s: str) -> str:
    return " ".join(str(s).lower().split()).strip(" .,!?")


def entity_f1(gold: list[list[dict]], pred: list[list[dict]], texts: list[str]) -> float | None:
    tp = fp = fn = 0
    for g_ents, p_ents, text in zip(gold, pred, texts, strict=True):
        remaining = [(e["entity"], _norm(e["value"])) for e in g_ents]
        for e in p_ents:
            surface = _norm(text[e["start"] : e["end"]])
            hit = next(
                (
                    i
                    for i, (name, val) in enumerate(remaining)
                    if name == e["entity"] and val in (_norm(e["value"]), surface)
                ),
                None,
            )
            if hit is None:
                fp += 1
            else:
                tp += 1
                remaining.pop(hit)
        fn += len(remaining)
    if tp + fp + fn == 0:
        return None
    return 2 * tp / (2 * tp + fp + fn)


def evaluate_intents(
    engine: Any, test: TrainingData, *, language: str | None = None
) -> dict[str, Any]:
    """Run ``engine`` over ``test`` and return the :data:`INTENT_KEYS` metrics."""
    texts = [e.text for e in test.examples]
    preds = [name for name, _ in engine.classify(texts, language=language)]
    out = intent_metrics([e.intent for e in test.examples], preds)
    has_entities = any(e.entities for e in test.examples)
    if has_entities:
        pred_ents = []
        for t in texts:
            lang = language if language in ("en", "zh") else detect_language(t)
            pred_ents.append([e.as_dict() for e in engine.extractor.extract(t, language=lang)])
        gold_ents = [
            [{"entity": s.entity, "value": s.value} for s in e.entities] for e in test.examples
        ]
        out["entity_f1"] = entity_f1(gold_ents, pred_ents, texts)
    else:
        out["entity_f1"] = None
    return {k: out[k] for k in INTENT_KEYS}


def read_emotion_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise NluDataError(f"invalid JSON: {e.msg}", file=str(path), line=n) from e
        if not isinstance(obj, dict) or "text" not in obj or "emotion" not in obj:
            raise NluDataError('expected {"text", "emotion", "escalate"}', file=str(path), line=n)
        if obj["emotion"] not in TAXONOMY:
            raise NluDataError(
                f"emotion {obj['emotion']!r} is not one of {TAXONOMY}", file=str(path), line=n
            )
        rows.append(obj)
    return rows


def evaluate_emotion(classifier: EmotionClassifier, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Taxonomy accuracy / macro-F1 and escalate F1 on ``{"text","emotion","escalate"}`` rows."""
    gold, pred, g_esc, p_esc = [], [], [], []
    for row in rows:
        lang = row.get("language") or detect_language(row["text"])
        try:
            res = classifier.predict(row["text"], language=lang)
            label, esc = res.label, res.escalate
        except NluInputError:
            label, esc = "neutral", False
        gold.append(row["emotion"])
        pred.append(label)
        g_esc.append(bool(row.get("escalate", False)))
        p_esc.append(esc)
    labels = sorted(set(gold))
    n = len(gold)
    return {
        "n": n,
        "accuracy": float(np.mean(np.array(gold) == np.array(pred))) if n else None,
        "macro_f1": float(f1_score(gold, pred, labels=labels, average="macro", zero_division=0))
        if n
        else None,
        "escalate_f1": float(f1_score(g_esc, p_esc, zero_division=0)) if any(g_esc) else None,
    }


def evaluate_goemotions(classifier: EmotionClassifier, path: Path) -> dict[str, Any]:
    """GoEmotions 28-label macro-F1 (and micro-F1) on a TSV split."""
    texts, ids = read_goemotions(path)
    gold = np.zeros((len(texts), len(GOEMOTIONS_LABELS)), dtype=bool)
    for i, row in enumerate(ids):
        gold[i, row] = True
    pred = classifier.goemotions_predict(texts)
    return {
        "n": len(texts),
        "macro_f1": float(f1_score(gold, pred, average="macro", zero_division=0)),
        "micro_f1": float(f1_score(gold, pred, average="micro", zero_division=0)),
    }
