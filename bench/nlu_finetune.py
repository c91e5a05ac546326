"""Opt-in fine-tuning (nlu/finetune.py) against the frozen head, on the same BANKING77 rows.

Separate from bench/nlu_accuracy.py because it costs minutes of CPU per split: fold 0 of the
same 5-fold CV as that table (~7 min of tuning for 8 000 examples on 2 cores) and its first
10-shot sample. Both the frozen and the tuned head are the product's ``IntentHead``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.nlu_accuracy import DATA, ROOT, _emb, _head_pred, few_shot_rows, fold_of
from models import CATALOG, Registry
from nlu import corpora
from nlu.embedders import MINILM
from nlu.intents import HeadConfig, IntentHead


def _tuned_pred(registry, texts, labels, tr, te, *, layers: int, epochs: int):
    """Tune MiniLM's top layers on ``tr``, fit the head on the tuned embeddings, predict ``te``."""
    from nlu.finetune import finetune_minilm

    t0 = time.perf_counter()
    tr_t, te_t = [texts[i] for i in tr], [texts[i] for i in te]
    tr_y = [labels[i] for i in tr]
    encoder, info = finetune_minilm(registry, tr_t, tr_y, layers=layers, epochs=epochs)
    head = IntentHead.fit(encoder.encode(tr_t), tr_t, tr_y, HeadConfig(), calibrate=False)
    probs = head.predict_proba(encoder.encode(te_t), te_t)
    return np.array(head.labels)[probs.argmax(1)], time.perf_counter() - t0, info


def _clinc(registry: Registry, cache: Path, *, layers: int, epochs: int) -> dict[str, Any]:
    """CLINC150 train -> val through the whole engine: OOS by the frozen head, intent tuned."""
    from nlu.engine import NluEngine
    from nlu.training_data import OUT_OF_SCOPE

    folder = DATA / "clinc150"
    tr = corpora.read_clinc_json(folder / "train.json").merge(
        corpora.read_clinc_json(folder / "oos_train.json")
    )
    te = corpora.read_clinc_json(folder / "val.json").merge(
        corpora.read_clinc_json(folder / "oos_val.json")
    )
    texts = [e.text for e in te.examples]
    gold = np.array([e.intent for e in te.examples])
    ins, oos = gold != OUT_OF_SCOPE, gold == OUT_OF_SCOPE
    out: dict[str, Any] = {}
    for tag, tune in (("frozen", 0), ("tuned", layers)):
        cfg = HeadConfig(folds=3, finetune_layers=tune, finetune_epochs=epochs)
        t0 = time.perf_counter()
        engine = NluEngine.train(tr, registry=registry, language="en", cache_dir=cache, config=cfg)
        secs = time.perf_counter() - t0
        pred = np.array([n for n, _ in engine.classify(texts, language="en")])
        said_oos = pred == OUT_OF_SCOPE
        out[f"clinc150_val_{tag}_in_scope_accuracy"] = float((pred == gold)[ins].mean())
        out[f"clinc150_val_{tag}_oos_recall"] = float(said_oos[oos].mean())
        out[f"clinc150_val_{tag}_oos_precision"] = float(
            (said_oos & oos).sum() / max(1, said_oos.sum())
        )
        out[f"clinc150_val_{tag}_train_s"] = secs
    return out


def run(
    *,
    layers: int = 2,
    epochs: int = 3,
    splits: tuple[str, ...] = ("full_fold0", "10shot_seed0", "clinc150_val"),
    models_dir: Path = ROOT / "var" / "models",
    cache: Path = ROOT / "var" / "nlu",
) -> dict[str, Any]:
    """Frozen vs tuned accuracy per split; returns {params, metrics, baseline, ratio}."""
    registry = Registry(CATALOG, models_dir=models_dir)
    td = corpora.read_csv(DATA / "banking77" / "train.csv")
    texts, labels = [e.text for e in td.examples], [e.intent for e in td.examples]
    y = np.array(labels)
    emb = _emb(MINILM, registry, cache).encode(texts)
    fold = fold_of(labels, 5)  # bench_banking's folds and first 10-shot sample
    rows = {
        "full_fold0": (np.flatnonzero(fold != 0), np.flatnonzero(fold == 0)),
        "10shot_seed0": few_shot_rows(labels, 10, seed=100),
    }
    out: dict[str, Any] = {}
    for name in [s for s in splits if s in rows]:
        tr, te = rows[name]
        frozen, _ = _head_pred(emb, texts, labels, tr, te, HeadConfig())
        pred, secs, info = _tuned_pred(
            registry, texts, labels, tr, te, layers=layers, epochs=epochs
        )
        out[f"banking77_{name}_frozen_accuracy"] = float((frozen == y[te]).mean())
        out[f"banking77_{name}_tuned_accuracy"] = float((pred == y[te]).mean())
        out[f"banking77_{name}_tune_s"] = secs
        out[f"banking77_{name}_tune_loss"] = info["loss_by_epoch"]
    if "clinc150_val" in splits:
        out.update(_clinc(registry, cache, layers=layers, epochs=epochs))
    baseline = {
        k.replace("_frozen_", "_tuned_"): v
        for k, v in out.items()
        if "_frozen_" in k and not k.endswith("_train_s")
    }
    return {
        "params": {"layers": layers, "epochs": epochs, "splits": list(splits)},
        "metrics": out,
        "baseline": baseline,
        "ratio": {k: out[k] / v for k, v in baseline.items() if v},
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
