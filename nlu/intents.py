"""Intent head: logistic regression over sentence embeddings + TF-IDF n-grams, with OOS.

Why this shape: on a 2-core CPU, fine-tuning is minutes per run, while a linear head over a
frozen embedding concatenated with sparse word and character n-grams trains in seconds and
beats embeddings alone on banking-style intents (the n-grams catch the keywords -- "pin",
"top up", "挂失" -- the embedding blurs). Out-of-scope is a calibrated threshold on the top
in-scope probability (or, when cross-validation shows it separates better, on a logit score
such as the gap between the best in-scope logit and the ``out_of_scope`` class logit), chosen
by cross-validation on the training data. Each fold also hides a rotating fifth of the intents,
whose examples play unseen out-of-scope utterances, so the threshold exists even with no OOS
examples; real ``out_of_scope`` examples, when present, are also a class of their own.
Everything is saved as arrays + JSON: no pickles.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from nlu.training_data import OUT_OF_SCOPE


@dataclass
class HeadConfig:
    """Hyper-parameters, chosen by CV on BANKING77/CLINC150 train (see bench/nlu_accuracy.py)."""

    c: float = 10.0
    emb_scale: float = 2.0
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    char_only: bool = False  # Chinese: characters are the words
    max_features: int = 60_000
    folds: int = 5
    max_iter: int = 300
    # measured here: lbfgs is 30x slower than newton-cg on small wide inputs (demo bot, 177
    # rows) and 15x faster on large ones (BANKING77, 8k rows)
    solver: str = "auto"
    # opt-in (nlu/finetune.py): tune MiniLM's top N layers for the intent pick; 0 = frozen
    finetune_layers: int = 0
    finetune_epochs: int = 3

    def as_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of a 2-D array of logits."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class NgramFeatures:
    """TF-IDF over word and char_wb n-grams, stored as vocabulary + idf (no pickle)."""

    config: HeadConfig
    vocab: dict[str, dict[str, int]] = field(default_factory=dict)
    idf: dict[str, np.ndarray] = field(default_factory=dict)
    _counters: dict[str, CountVectorizer] = field(default_factory=dict, repr=False)

    def _counter(self, name: str, kw: dict) -> CountVectorizer:
        # building a CountVectorizer validates its vocabulary: do it once, not per utterance
        if name not in self._counters:
            vec = CountVectorizer(
                lowercase=True, vocabulary=self.vocab[name], dtype=np.float32, **kw
            )
            vec._validate_vocabulary()
            self._counters[name] = vec
        return self._counters[name]

    def _analyzers(self) -> dict[str, dict]:
        cfg = self.config
        out = {"char": {"analyzer": "char_wb", "ngram_range": tuple(cfg.char_ngrams)}}
        if cfg.char_only:
            out["char"] = {"analyzer": "char", "ngram_range": (1, 3)}
        else:
            out["word"] = {
                "analyzer": "word",
                "ngram_range": tuple(cfg.word_ngrams),
                "token_pattern": r"(?u)\b\w+\b",
            }
        return out

    def fit(self, texts: list[str]) -> NgramFeatures:
        for name, kw in self._analyzers().items():
            vec = TfidfVectorizer(
                lowercase=True,
                sublinear_tf=True,
                min_df=1,
                max_features=self.config.max_features,
                dtype=np.float32,
                **kw,
            )
            vec.fit(texts)
            self.vocab[name] = {t: int(i) for t, i in vec.vocabulary_.items()}
            self.idf[name] = vec.idf_.astype(np.float32)
        return self

    def sparse_row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """One text's TF-IDF features as (column indices, values), as ``transform`` makes them.

        The per-utterance fast path: no sparse-matrix construction, just the analyzer, a dict
        lookup per n-gram and the same sublinear-tf * idf / L2 weighting.
        """
        cols, vals, offset = [], [], 0
        for name, kw in self._analyzers().items():
            vocab = self.vocab[name]
            counts: dict[int, int] = {}
            for gram in self._counter(name, kw).build_analyzer()(text):
                j = vocab.get(gram)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            if counts:
                idx = np.fromiter(counts, dtype=np.int64, count=len(counts))
                tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
                w = (1.0 + np.log(tf)) * self.idf[name][idx]
                norm = float(np.sqrt(np.dot(w, w)))
                cols.append(idx + offset)
                vals.append(w / (norm if norm > 0 else 1.0))
            offset += len(self.idf[name])
        if not cols:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        return np.concatenate(cols), np.concatenate(vals)

    def transform(self, texts: list[str]) -> sparse.csr_matrix:
        blocks = []
        for name, kw in self._analyzers().items():
            counts = self._counter(name, kw).transform(texts)
            counts.data = 1.0 + np.log(counts.data)  # sublinear tf
            m = counts.multiply(self.idf[name]).tocsr()
            norms = np.sqrt(m.multiply(m).sum(axis=1)).A1
            norms[norms == 0] = 1.0
            blocks.append(sparse.diags(1.0 / norms) @ m)
        return sparse.hstack(blocks, format="csr", dtype=np.float32)


@dataclass
class IntentHead:
    """One language's intent classifier (labels include ``out_of_scope`` if it was trained)."""

    labels: list[str]
    config: HeadConfig
    ngrams: NgramFeatures
    coef: np.ndarray
    intercept: np.ndarray
    threshold: float = 0.0
    calibration: dict = field(default_factory=dict)
    # which OOS score ``threshold`` applies to (see OOS_SCORES); "msp" for models saved before
    oos_score: str = "msp"

    # --- training -----------------------------------------------------------------
    @staticmethod
    def _features(
        ngrams: NgramFeatures, emb: np.ndarray, texts: list[str], scale: float
    ) -> sparse.csr_matrix:
        return sparse.hstack(
            [sparse.csr_matrix(emb * scale), ngrams.transform(texts)], format="csr"
        )

    @classmethod
    def _fit_once(
        cls, emb: np.ndarray, texts: list[str], labels: list[str], cfg: HeadConfig
    ) -> IntentHead:
        ngrams = NgramFeatures(cfg).fit(texts)
        x = cls._features(ngrams, emb, texts, cfg.emb_scale)
        classes = sorted(set(labels))
        y = np.array([classes.index(lab) for lab in labels])
        solver = (
            cfg.solver if cfg.solver != "auto" else ("newton-cg" if len(texts) < 2000 else "lbfgs")
        )
        lr = LogisticRegression(C=cfg.c, max_iter=cfg.max_iter, tol=1e-3, solver=solver)
        lr.fit(x, y)
        coef, intercept = lr.coef_.astype(np.float32), lr.intercept_.astype(np.float32)
        if len(classes) == 2:  # sklearn keeps one row for binary problems
            coef = np.vstack([-coef, coef]) / 2
            intercept = np.array([-intercept[0], intercept[0]], dtype=np.float32) / 2
        return cls(classes, cfg, ngrams, coef, intercept)

    @classmethod
    def fit(
        cls,
        emb: np.ndarray,
        texts: list[str],
        labels: list[str],
        cfg: HeadConfig | None = None,
        *,
        calibrate: bool = True,
        seed: int = 0,
    ) -> IntentHead:
        """Fit the head and (optionally) calibrate the OOS threshold by cross-validation."""
        cfg = cfg or HeadConfig()
        head = cls._fit_once(emb, texts, labels, cfg)
        if calibrate and len(set(labels) - {OUT_OF_SCOPE}) >= 3:
            head.threshold, head.calibration = calibrate_threshold(
                emb, texts, labels, cfg, seed=seed
            )
            head.oos_score = head.calibration.get("score", "msp")
        return head

    # --- inference ----------------------------------------------------------------
    def logits(self, emb: np.ndarray, texts: list[str]) -> np.ndarray:
        if len(texts) == 1:  # parse(): skip sparse-matrix building, ~10x cheaper
            dim = emb.shape[1]
            cols, vals = self.ngrams.sparse_row(texts[0])
            z = self.coef[:, :dim] @ (emb[0] * self.config.emb_scale)
            z = z + self.coef[:, dim + cols] @ vals + self.intercept
            return z[None, :].astype(np.float32)
        x = self._features(self.ngrams, emb, texts, self.config.emb_scale)
        return np.asarray(x @ self.coef.T) + self.intercept

    def predict_proba(self, emb: np.ndarray, texts: list[str]) -> np.ndarray:
        return softmax(self.logits(emb, texts))

    def decide(
        self, probs: np.ndarray, logits: np.ndarray | None = None
    ) -> list[tuple[str, float]]:
        """Top label per row; ``out_of_scope`` when the row's OOS score is below threshold.

        "maxlogit" and "energy" need ``logits`` (probabilities lose the scale); "msp" and
        "oos_gap" can be computed from ``probs`` alone.
        """
        kind = self.oos_score
        if logits is None:
            if kind not in ("msp", "oos_gap"):
                raise ValueError(f"the {kind!r} OOS score needs logits: decide(probs, logits)")
            logits = np.log(np.clip(probs, 1e-30, None))
        scores = oos_scores(logits, self.labels, kind)
        return [
            decide_row(row, self.labels, self.threshold, score=sc)
            for row, sc in zip(probs, scores, strict=True)
        ]

    # --- persistence ----------------------------------------------------------------
    def save(self, directory: Path, prefix: str) -> None:
        arrays = {"coef": self.coef, "intercept": self.intercept}
        arrays.update({f"idf_{k}": v for k, v in self.ngrams.idf.items()})
        np.savez_compressed(directory / f"{prefix}.npz", **arrays)
        meta = {
            "labels": self.labels,
            "config": self.config.as_dict(),
            "vocab": self.ngrams.vocab,
            "threshold": self.threshold,
            "calibration": self.calibration,
            "oos_score": self.oos_score,
        }
        (directory / f"{prefix}.json").write_text(
            json.dumps(meta, ensure_ascii=False), encoding="utf-8"
        )

    @classmethod
    def load(cls, directory: Path, prefix: str) -> IntentHead:
        meta = json.loads((directory / f"{prefix}.json").read_text(encoding="utf-8"))
        cfg = HeadConfig(
            **{k: tuple(v) if isinstance(v, list) else v for k, v in meta["config"].items()}
        )
        with np.load(directory / f"{prefix}.npz") as z:
            idf = {k[4:]: z[k] for k in z.files if k.startswith("idf_")}
            coef, intercept = z["coef"], z["intercept"]
        ngrams = NgramFeatures(cfg, meta["vocab"], idf)
        return cls(
            meta["labels"],
            cfg,
            ngrams,
            coef,
            intercept,
            meta["threshold"],
            meta.get("calibration", {}),
            meta.get("oos_score", "msp"),
        )


# Out-of-scope scores (higher = more in-scope), all computed from one row of logits:
#   msp      top in-scope softmax probability (over all labels, OOS class included)
#   maxlogit top in-scope logit
#   energy   log-sum-exp of the in-scope logits
#   oos_gap  top in-scope logit minus the out_of_scope class logit (needs that class)
OOS_SCORES = ("msp", "maxlogit", "energy", "oos_gap")


def oos_scores(logits: np.ndarray, labels: list[str], kind: str) -> np.ndarray:
    """The ``kind`` OOS score of each row of ``logits`` (columns follow ``labels``)."""
    logits = np.atleast_2d(np.asarray(logits, dtype=np.float64))
    ins = np.array([lab != OUT_OF_SCOPE for lab in labels])
    zi = logits[:, ins]
    top = zi.max(axis=1)
    if kind == "maxlogit":
        return top
    if kind == "energy":
        return top + np.log(np.exp(zi - top[:, None]).sum(axis=1))
    if kind == "oos_gap":
        if ins.all():
            raise ValueError("the oos_gap score needs an out_of_scope class")
        return top - logits[:, ~ins].max(axis=1)
    if kind != "msp":
        raise ValueError(f"unknown OOS score {kind!r}; expected one of {OOS_SCORES}")
    return softmax(logits)[:, ins].max(axis=1)


def decide_row(
    row: np.ndarray, labels: list[str], threshold: float, *, score: float | None = None
) -> tuple[str, float]:
    """Top label of one probability row; OOS if that is the OOS class or ``score`` < threshold.

    ``score`` defaults to the top in-scope probability (the "msp" score).
    """
    order = np.argsort(-row)
    top = labels[order[0]]
    if top == OUT_OF_SCOPE:
        return OUT_OF_SCOPE, float(row[order[0]])
    if (float(row[order[0]]) if score is None else float(score)) < threshold:
        return OUT_OF_SCOPE, float(1.0 - row[order[0]])
    return top, float(row[order[0]])


# real OOS examples describe real OOS traffic best; below this many, hidden intents stand in
MIN_REAL_OOS = 10
# Contact centres pay more for refusing a real request than for answering an odd one: the
# threshold is the highest-recall one costing at most this much CV in-scope accuracy.
MAX_IN_SCOPE_LOSS = 0.01
# another score replaces "msp" only if its CV AUROC is this much better, measured on at
# least MIN_OOS_FOR_SCORE_CHOICE OOS rows (AUROC from a dozen OOS rows is noise)
MIN_AUROC_GAIN = 0.003
MIN_OOS_FOR_SCORE_CHOICE = 50


def _auroc(score: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve of ``score`` for ``positive`` (0.5 when one side is empty)."""
    from sklearn.metrics import roc_auc_score

    if positive.all() or not positive.any():
        return 0.5
    return float(roc_auc_score(positive, score))


def choose_oos_score(cv_scores: dict[str, np.ndarray], is_oos: np.ndarray) -> tuple[str, dict]:
    """The OOS score that best separates CV in-scope rows from OOS rows (AUROC), "msp" if tied."""
    aurocs = {k: _auroc(v, ~is_oos) for k, v in cv_scores.items()}
    best = max(aurocs, key=lambda k: aurocs[k])
    if (
        int(is_oos.sum()) < MIN_OOS_FOR_SCORE_CHOICE
        or aurocs[best] < aurocs["msp"] + MIN_AUROC_GAIN
    ):
        best = "msp"
    return best, {k: round(v, 4) for k, v in aurocs.items()}


def pick_threshold(
    s: np.ndarray, o: np.ndarray, c: np.ndarray, *, max_loss: float = MAX_IN_SCOPE_LOSS
) -> float:
    """Highest-OOS-recall threshold on score ``s`` losing <= ``max_loss`` in-scope accuracy.

    ``o``: row is out-of-scope; ``c``: the row's argmax label is right (rows the head already
    sent to the OOS class must have a score below any threshold).
    """
    n_in, n_oos = max(1, int((~o).sum())), max(1, int(o.sum()))
    base_acc = float((c & ~o).sum() / n_in)
    best_t, best_obj = float(s.min()) - 1.0, -1.0
    cands = np.unique(np.round(s[np.isfinite(s)], 3))
    if len(cands) > 4000:  # large data: quantiles are plenty
        cands = np.unique(np.quantile(cands, np.linspace(0, 1, 4001)))
    for t in cands:
        accept = s >= t
        in_acc = float((accept & c & ~o).sum() / n_in)
        oos_rec = float((~accept & o).sum() / n_oos)
        if in_acc >= base_acc - max_loss and oos_rec + 1e-3 * in_acc > best_obj:
            best_t, best_obj = float(t), oos_rec + 1e-3 * in_acc
    return best_t if np.isfinite(best_t) else 0.0


def calibrate_threshold(
    emb: np.ndarray, texts: list[str], labels: list[str], cfg: HeadConfig, *, seed: int = 0
) -> tuple[float, dict]:
    """Pick the OOS score and its highest-recall threshold within MAX_IN_SCOPE_LOSS of CV accuracy.

    With at least MIN_REAL_OOS real ``out_of_scope`` examples, those held-out examples are the
    OOS side. Without them, fold k also trains without intent group k (1/k of the intents),
    and fold k's examples of group-k intents are pseudo out-of-scope. The score (see
    :data:`OOS_SCORES`) is the one with the best CV AUROC; "msp" unless another is clearly
    better on enough OOS rows.
    """
    rng = np.random.default_rng(seed)
    labels_arr = np.array(labels)
    intents = sorted(set(labels) - {OUT_OF_SCOPE})
    folds = max(2, min(cfg.folds, min(np.bincount(np.unique(labels_arr, return_inverse=True)[1]))))
    folds = max(folds, 3) if len(labels) >= 30 else 2
    real_oos = int((labels_arr == OUT_OF_SCOPE).sum()) >= MIN_REAL_OOS
    order = rng.permutation(len(intents))
    group_of = {} if real_oos else {intents[i]: k % folds for k, i in enumerate(order)}
    fold_of = np.zeros(len(labels), dtype=int)
    for lab in sorted(set(labels)):  # stratified folds; sorted: set order varies by process
        idx = np.flatnonzero(labels_arr == lab)
        rng.shuffle(idx)
        fold_of[idx] = np.arange(len(idx)) % folds
    scores: dict[str, list[np.ndarray]] = {}
    is_oos, correct = [], []
    for k in range(folds):
        in_group = np.array([group_of.get(lab, -1) == k for lab in labels])
        train = (fold_of != k) & ~in_group
        test = fold_of == k
        if len(set(labels_arr[train])) < 2 or not test.any():
            continue
        head = IntentHead._fit_once(
            emb[train], [texts[i] for i in np.flatnonzero(train)], list(labels_arr[train]), cfg
        )
        z = head.logits(emb[test], [texts[i] for i in np.flatnonzero(test)])
        pred = np.array(head.labels)[z.argmax(axis=1)]
        to_oos = pred == OUT_OF_SCOPE  # the OOS class won: below any threshold
        kinds = [n for n in OOS_SCORES if n != "oos_gap" or OUT_OF_SCOPE in head.labels]
        for kind in kinds:
            sc = oos_scores(z, head.labels, kind)
            scores.setdefault(kind, []).append(np.where(to_oos, -np.inf, sc))
        is_oos.append(in_group[test] | (labels_arr[test] == OUT_OF_SCOPE))
        correct.append(pred == labels_arr[test])
    if not is_oos:
        return 0.0, {}
    o, c = np.concatenate(is_oos), np.concatenate(correct)
    n_parts = len(is_oos)
    cv = {k: np.concatenate(v) for k, v in scores.items() if len(v) == n_parts}
    kind, aurocs = choose_oos_score(
        {k: np.where(np.isfinite(v), v, -1e9) for k, v in cv.items()}, o
    )
    s = cv[kind]
    best_t = pick_threshold(s, o, c)
    accept = s >= best_t
    info = {
        "folds": folds,
        "score": kind,
        "cv_auroc": aurocs,
        "cv_in_scope_accuracy": float((accept & c & ~o).sum() / max(1, (~o).sum())),
        "cv_oos_recall": float((~accept & o).sum() / max(1, o.sum())),
        "n_pseudo_oos": int(o.sum()),
        "oos_source": "real" if real_oos else "held-out intents",
    }
    return best_t, info
