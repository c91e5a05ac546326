"""The GoEmotions 28-label MLP head: per-label thresholds from out-of-fold probabilities."""

import numpy as np

from nlu.emotion_training import _fit_go_head, best_f1_threshold


def test_best_f1_threshold_separates_a_clean_split():
    p = np.r_[np.full(90, 0.1), np.full(10, 0.4)]
    y = np.r_[np.zeros(90, int), np.ones(10, int)]
    t = best_f1_threshold(p, y)
    assert 0.1 < t <= 0.4
    assert ((p >= t) == (y == 1)).all()


def test_go_head_learns_rare_labels_with_low_thresholds():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 6))
    y = np.zeros((600, 3), dtype=np.int8)
    y[:, 0] = x[:, 0] > 1.6  # rare (~5 %)
    y[:, 1] = x[:, 1] > 0  # common
    y[:, 2] = (x[:, 2] + x[:, 3]) > 2.5  # rare, two features
    head, thr = _fit_go_head(x, y, seed=0, folds=2, hidden=32, epochs=300)
    assert head.hidden.shape == (32, 6) and head.coef.shape == (3, 32) and thr.shape == (3,)
    probs = 1 / (1 + np.exp(-head.logits(x)))
    pred = probs >= thr[None, :]
    for j in range(3):
        tp = (pred[:, j] & (y[:, j] == 1)).sum()
        f1 = 2 * tp / (pred[:, j].sum() + y[:, j].sum())
        assert f1 > 0.7, (j, f1)
    assert thr[0] < 0.5  # a rare label's best-F1 threshold sits below the 0.5 default


def test_mlp_head_survives_save_and_load(fake_emotion, tmp_path):
    from nlu.emotion import _EXTRA, EmotionClassifier, _MlpHead

    rng = np.random.default_rng(0)
    dim = 384 + _EXTRA
    mlp = _MlpHead(
        rng.normal(size=(16, dim)).astype(np.float32),
        rng.normal(size=16).astype(np.float32),
        rng.normal(size=(28, 16)).astype(np.float32),
        rng.normal(size=28).astype(np.float32),
    )
    fake_emotion.heads["minilm-l6-v2"]["go"] = mlp
    try:
        fake_emotion.save(tmp_path / "head")
    finally:
        fake_emotion.heads["minilm-l6-v2"]["go"] = fake_emotion.heads["e5-small-multilingual"]["go"]
    again = EmotionClassifier.load(tmp_path / "head")
    loaded = again.heads["minilm-l6-v2"]["go"]
    assert isinstance(loaded, _MlpHead)
    x = rng.normal(size=(3, dim)).astype(np.float32)
    np.testing.assert_allclose(loaded.logits(x), mlp.logits(x), rtol=0.02, atol=0.05)
    assert not isinstance(again.heads["e5-small-multilingual"]["go"], _MlpHead)


def test_weighted_in_domain_rows_move_the_taxonomy_head():
    from nlu.emotion_training import fit_taxonomy_head

    rng = np.random.default_rng(0)
    # the big corpus says a high feature 0 means class 0; the few in-domain rows (which also
    # carry a high feature 2, rare in the corpus) say class 2
    x = rng.normal(size=(2000, 3))
    y = np.digitize(-x[:, 0], [-0.5, 0.5])  # 0: high feature 0, 1: middle, 2: low
    in_x = np.c_[np.full(20, 2.0), rng.normal(size=20), np.full(20, 4.0)]
    in_y = np.full(20, 2)
    probe = np.array([[2.0, 0.0, 4.0]])
    alone = fit_taxonomy_head(x, y, in_x, in_y, in_weight=0.0).logits(probe).argmax(1)
    weighted = fit_taxonomy_head(x, y, in_x, in_y, in_weight=100.0).logits(probe).argmax(1)
    assert alone[0] == 0 and weighted[0] == 2


def test_escalate_features_come_from_heads_that_never_saw_the_row():
    from nlu.emotion_training import fit_taxonomy_head, out_of_fold_probs
    from nlu.intents import softmax

    rng = np.random.default_rng(1)
    x = rng.normal(size=(600, 4))
    y = np.arange(600) % 6  # noise: the corpus teaches nothing
    # each in-domain row carries its own one-hot marker and a random label: memorisable
    # in-sample, unknowable out of sample
    n = 40
    in_x = np.hstack([rng.normal(size=(n, 4)), np.eye(n)])
    x = np.hstack([x, np.zeros((600, n))])
    in_y = rng.integers(0, 6, size=n)
    seen = softmax(fit_taxonomy_head(x, y, in_x, in_y).logits(in_x))[np.arange(n), in_y]
    oof = out_of_fold_probs(x, y, in_x, in_y)[np.arange(n), in_y]
    assert seen.mean() > 0.6 and oof.mean() < 0.35


def test_the_shipped_in_domain_rows_cover_every_label_in_both_languages():
    from collections import Counter

    from nlu.emotion import TAXONOMY
    from nlu.emotion_training import IN_DOMAIN
    from nlu.evaluation import read_emotion_jsonl

    rows = [row for path in IN_DOMAIN for row in read_emotion_jsonl(path)]
    counts = Counter((r["language"], r["emotion"]) for r in rows)
    assert all(counts[(lang, e)] >= 20 for lang in ("en", "zh") for e in TAXONOMY), counts
    assert {type(r["escalate"]) for r in rows} == {bool}
    assert len({r["text"] for r in rows}) == len(rows)  # no duplicates
