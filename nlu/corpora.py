"""Readers for the non-Rasa corpora used by ``hotline nlu eval`` and the benchmarks.

CSV ``text,label`` (BANKING77 style), CLINC150 JSON (lists of ``[text, intent]``, ``oos``
maps to ``out_of_scope``), Snips JSON, TSV ``text<TAB>label`` (SMP2017), JSONL test files
``{"text","intent","entities":[{"entity","value"}]}`` and GoEmotions TSV. Every reader names
the file and line of a bad row.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from nlu.errors import NluDataError
from nlu.training_data import EntitySpan, Example, TrainingData, normalise_label


def read_csv(path: Path) -> TrainingData:
    """CSV ``text,label``: columns named text / label, category or intent (else first two)."""
    out: list[Example] = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise NluDataError("empty CSV", file=str(path), line=1)
        cols = [h.strip().lower() for h in header]
        has_header = any(c in {"text", "label", "category", "intent", "sentence"} for c in cols)
        ti = next((i for i, c in enumerate(cols) if c in {"text", "sentence"}), 0)
        li = next((i for i, c in enumerate(cols) if c in {"label", "category", "intent"}), 1)
        rows = reader if has_header else [header, *reader]
        for n, row in enumerate(rows, start=2 if has_header else 1):
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) <= max(ti, li):
                raise NluDataError(
                    f"expected text and label columns, got {row!r}", file=str(path), line=n
                )
            out.append(Example(row[ti].strip(), normalise_label(row[li]), line=n))
    return TrainingData(out, source=str(path))


def read_tsv(path: Path) -> TrainingData:
    """TSV ``text<TAB>label`` with an optional header row (SMP2017 ``Sentence<TAB>Tag``)."""
    out: list[Example] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            raise NluDataError("expected text<TAB>label", file=str(path), line=n)
        if n == 1 and parts[0].strip().lower() in {"sentence", "text"}:
            continue
        out.append(Example(parts[0].strip(), normalise_label(parts[1]), line=n))
    return TrainingData(out, source=str(path))


def read_clinc_json(path: Path) -> TrainingData:
    """CLINC150: a list of ``[text, intent]`` or the full dict of splits (train/oos_train)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise NluDataError(f"invalid JSON: {e.msg}", file=str(path), line=e.lineno) from e
    pairs: list = []
    if isinstance(raw, dict):
        for key in ("train", "oos_train"):
            pairs.extend(raw.get(key, []))
    elif isinstance(raw, list):
        pairs = raw
    out = []
    for i, p in enumerate(pairs):
        if not (isinstance(p, list | tuple) and len(p) == 2):
            raise NluDataError(f"item {i}: expected [text, intent], got {p!r}", file=str(path))
        out.append(Example(str(p[0]).strip(), normalise_label(str(p[1]))))
    return TrainingData(out, source=str(path))


def read_snips_json(path: Path) -> TrainingData:
    """Snips benchmark JSON: ``{intent: [{"data": [{"text", "entity"?}, ...]}]}`` with slots."""
    blob = path.read_bytes()
    try:
        text = blob.decode("utf-8")
    except UnicodeDecodeError:
        text = blob.decode("latin-1")  # Snips' PlayMusic file is latin-1
    raw = json.loads(text)
    out = []
    for intent, items in raw.items():
        for item in items:
            text, spans = "", []
            for chunk in item["data"]:
                start = len(text)
                text += chunk["text"]
                if "entity" in chunk:
                    spans.append(EntitySpan(start, len(text), chunk["entity"], chunk["text"]))
            out.append(Example(text.strip(), intent, tuple(spans)))
    return TrainingData(out, source=str(path))


def read_jsonl(path: Path) -> TrainingData:
    """JSONL test lines ``{"text","intent","entities":[{"entity","value"}]}``.

    Test entities may lack offsets; they are then located in the text (-1 if absent).
    """
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise NluDataError(f"invalid JSON: {e.msg}", file=str(path), line=n) from e
        if not isinstance(obj, dict) or "text" not in obj:
            raise NluDataError('expected an object with "text"', file=str(path), line=n)
        text = str(obj["text"])
        label = obj.get("intent") or obj.get("label") or ""
        spans = []
        for ent in obj.get("entities") or []:
            value = str(ent.get("value", ""))
            start = ent.get("start")
            if start is None:
                start = text.find(value)
            end = ent.get("end", start + len(value) if start >= 0 else -1)
            spans.append(EntitySpan(int(start), int(end), str(ent.get("entity", "")), value))
        out.append(Example(text, normalise_label(str(label)), tuple(spans), line=n))
    return TrainingData(out, source=str(path))


def read_any(path: Path) -> TrainingData:
    """Pick a reader by extension (and by content for ``.json``)."""
    from nlu.rasa_format import read_nlu_yaml

    if not path.exists():
        raise NluDataError("file not found", file=str(path))
    suffix = path.suffix.lower()
    if path.is_dir():
        files = sorted([*path.glob("**/*.yml"), *path.glob("**/*.yaml")])
        data = TrainingData(source=str(path))
        for f in files:
            text = f.read_text(encoding="utf-8")
            if "nlu:" in text:
                data = data.merge(read_nlu_yaml(f))
        return data
    if suffix in {".yml", ".yaml"}:
        return read_nlu_yaml(path)
    if suffix == ".csv":
        return read_csv(path)
    if suffix in {".tsv", ".txt"}:
        return read_tsv(path)
    if suffix == ".jsonl":
        return read_jsonl(path)
    if suffix == ".json":
        head = path.read_text(encoding="utf-8")[:2000].lstrip()
        if head.startswith("[") or '"train"' in head:
            return read_clinc_json(path)
        return read_snips_json(path)
    raise NluDataError(f"unsupported training file type {suffix!r}", file=str(path))


def read_goemotions(path: Path) -> tuple[list[str], list[list[int]]]:
    """GoEmotions TSV ``text<TAB>ids<TAB>id`` -> texts and label-id lists (28 labels)."""
    texts, labels = [], []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            raise NluDataError("expected text<TAB>label ids", file=str(path), line=n)
        try:
            ids = [int(x) for x in parts[1].split(",") if x.strip()]
        except ValueError as e:
            raise NluDataError(f"bad label ids {parts[1]!r}", file=str(path), line=n) from e
        texts.append(parts[0])
        labels.append(ids)
    return texts, labels


GOEMOTIONS_LABELS = [
    "admiration",
    "amusement",
    "anger",
    "annoyance",
    "approval",
    "caring",
    "confusion",
    "curiosity",
    "desire",
    "disappointment",
    "disapproval",
    "disgust",
    "embarrassment",
    "excitement",
    "fear",
    "gratitude",
    "grief",
    "joy",
    "love",
    "nervousness",
    "optimism",
    "pride",
    "realization",
    "relief",
    "remorse",
    "sadness",
    "surprise",
    "neutral",
]
