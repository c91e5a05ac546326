"""Training the emotion head from GoEmotions (a build step, never run at import or serve time).

``train_emotion_head`` reads ``train.tsv`` from a GoEmotions folder, embeds it with each
embedder (MiniLM for English, e5 for Chinese transfer; e5 on a subsample because it runs at
~60 sentences/s here), and fits: a 6-class taxonomy head (class-balanced, for macro-F1) and
a 28-label one-vs-rest head whose per-label thresholds are tuned on a 10 % split of *train*
(never on dev or test).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from nlu.corpora import GOEMOTIONS_LABELS, read_goemotions
from nlu.embedders import E5, MINILM, CachedEmbedder, make_embedder
from nlu.emotion import (
    _EXTRA,
    TAXONOMY,
    EmotionClassifier,
    TextFeatures,
    _LinearHead,
    taxonomy_label,
)


def _fit_heads(x: np.ndarray, tax_y: np.ndarray, go_y: np.ndarray, *, seed: int) -> dict[str, Any]:
    tax = LogisticRegression(C=2.0, max_iter=400, class_weight="balanced").fit(x, tax_y)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(x))
    hold, fit = perm[: len(x) // 10], perm[len(x) // 10 :]
    coefs, bs, thrs = [], [], []
    for j in range(go_y.shape[1]):
        y = go_y[:, j]
        lr = LogisticRegression(C=2.0, max_iter=300).fit(x[fit], y[fit])
        p = lr.predict_proba(x[hold])[:, 1]
        best_t, best_f = 0.5, -1.0
        for t in np.arange(0.05, 0.9, 0.025):
            pred = p >= t
            tp = float((pred & (y[hold] == 1)).sum())
            f = 2 * tp / max(1.0, pred.sum() + (y[hold] == 1).sum())
            if f > best_f:
                best_t, best_f = float(t), f
        lr_full = LogisticRegression(C=2.0, max_iter=300).fit(x, y)
        coefs.append(lr_full.coef_[0])
        bs.append(lr_full.intercept_[0])
        thrs.append(best_t)
    return {
        "tax": _LinearHead(tax.coef_.astype(np.float32), tax.intercept_.astype(np.float32)),
        "go": _LinearHead(np.array(coefs, dtype=np.float32), np.array(bs, dtype=np.float32)),
        "go_thr": np.array(thrs, dtype=np.float32),
    }


def train_emotion_head(
    goemotions_dir: Path,
    *,
    registry: Any,
    cache_dir: Path,
    embedders: tuple[str, ...] = (MINILM, E5),
    max_train: dict[str, int] | None = None,
    seed: int = 0,
) -> EmotionClassifier:
    """Fit the emotion heads on GoEmotions train; returns a classifier ready to ``save``."""
    texts, ids = read_goemotions(goemotions_dir / "train.tsv")
    limits = {MINILM: len(texts), E5: 20_000, **(max_train or {})}
    feats = TextFeatures()
    extra_all = np.stack([feats(t, "en") for t in texts])
    go_all = np.zeros((len(texts), len(GOEMOTIONS_LABELS)), dtype=np.int8)
    for i, row in enumerate(ids):
        go_all[i, row] = 1
    tax_all = np.array(
        [TAXONOMY.index(taxonomy_label([GOEMOTIONS_LABELS[k] for k in row])) for row in ids]
    )
    heads = {}
    for name in embedders:
        n = min(limits.get(name, len(texts)), len(texts))
        enc = CachedEmbedder(make_embedder(name, registry=registry), cache_dir)
        vecs = np.vstack([enc.encode(texts[i : i + 2000]) for i in range(0, n, 2000)])[:n]
        x = np.hstack([vecs, extra_all[:n]])
        heads[name] = _fit_heads(x, tax_all[:n], go_all[:n], seed=seed)
    meta = {
        "extra_features": _EXTRA,
        "trained_on": "GoEmotions train (Demszky et al. 2020), labels mapped onto the taxonomy",
        "n_train": {name: min(limits.get(name, len(texts)), len(texts)) for name in embedders},
        "goemotions_labels": GOEMOTIONS_LABELS,
    }
    return EmotionClassifier(heads=heads, meta=meta, registry=registry)
