"""Out-of-scope scores, the CV choice between them, and the threshold rule."""

import json

import numpy as np
import pytest

from nlu.intents import (
    MIN_OOS_FOR_SCORE_CHOICE,
    OOS_SCORES,
    HeadConfig,
    IntentHead,
    NgramFeatures,
    choose_oos_score,
    oos_scores,
    pick_threshold,
    softmax,
)
from nlu.training_data import OUT_OF_SCOPE

LABELS = ["a", "b", OUT_OF_SCOPE]
LOGITS = np.array([[3.0, 1.0, 0.0], [0.5, 0.2, 2.0]])


def test_scores_by_hand():
    z = LOGITS
    np.testing.assert_allclose(oos_scores(z, LABELS, "maxlogit"), [3.0, 0.5])
    np.testing.assert_allclose(oos_scores(z, LABELS, "oos_gap"), [3.0, -1.5])
    np.testing.assert_allclose(
        oos_scores(z, LABELS, "energy"), np.log(np.exp(z[:, :2]).sum(axis=1))
    )
    np.testing.assert_allclose(oos_scores(z, LABELS, "msp"), softmax(z)[:, :2].max(axis=1))


def test_oos_gap_needs_the_oos_class_and_unknown_kinds_fail():
    with pytest.raises(ValueError, match="out_of_scope class"):
        oos_scores(LOGITS[:, :2], ["a", "b"], "oos_gap")
    with pytest.raises(ValueError, match="unknown OOS score"):
        oos_scores(LOGITS, LABELS, "nope")


def test_score_choice_keeps_msp_on_few_oos_rows_and_switches_on_clear_evidence():
    rng = np.random.default_rng(0)
    n_in, n_oos = 400, MIN_OOS_FOR_SCORE_CHOICE
    is_oos = np.r_[np.zeros(n_in, bool), np.ones(n_oos, bool)]
    noisy = np.r_[rng.normal(1, 1, n_in), rng.normal(0, 1, n_oos)]  # AUROC ~0.76
    clean = np.r_[rng.normal(3, 1, n_in), rng.normal(0, 1, n_oos)]  # AUROC ~0.98
    kind, aurocs = choose_oos_score({"msp": noisy, "maxlogit": clean}, is_oos)
    assert kind == "maxlogit"
    assert aurocs["maxlogit"] > aurocs["msp"] + 0.1

    def ranked(m: int) -> np.ndarray:  # AUROC exactly 1 - m / n_in: m in-scope rows sink
        in_scope = np.arange(n_in) + 1000.0
        in_scope[:m] = np.arange(m)
        return np.r_[in_scope, 500.0 + np.arange(n_oos)]

    # the best AUROC wins, even when it beats the runner-up by less than the msp margin
    kind, aurocs = choose_oos_score(
        {"msp": ranked(100), "maxlogit": ranked(6), "oos_gap": ranked(5)}, is_oos
    )
    assert aurocs["oos_gap"] == pytest.approx(1 - 5 / n_in)
    assert kind == "oos_gap"
    few = np.r_[np.zeros(n_in, bool), np.ones(5, bool)]
    kind, _ = choose_oos_score({"msp": noisy[: n_in + 5], "maxlogit": clean[: n_in + 5]}, few)
    assert kind == "msp"


def test_threshold_respects_the_in_scope_budget():
    # 100 in-scope rows (all correct) scored 1..100, 20 OOS rows scored 0.5..2.4
    s = np.r_[np.arange(1, 101), 0.5 + np.arange(20) / 10].astype(float)
    o = np.r_[np.zeros(100, bool), np.ones(20, bool)]
    c = ~o
    t = pick_threshold(s, o, c, max_loss=0.02)
    accept = s >= t
    assert (accept & ~o).sum() >= 98  # lost at most 2 of 100 in-scope rows
    assert (~accept & o).sum() == 20  # and with that, every OOS row is refused
    t0 = pick_threshold(s, o, c, max_loss=0.0)
    assert (s >= t0)[~o].all()


def _toy_head() -> IntentHead:
    cfg = HeadConfig()
    ngrams = NgramFeatures(cfg).fit(["alpha", "beta", "gamma"])
    width = 4 + sum(len(v) for v in ngrams.vocab.values())
    coef = np.zeros((3, width), dtype=np.float32)
    coef[:, :4] = np.eye(3, 4, dtype=np.float32) / cfg.emb_scale  # logit j = emb[:, j]
    return IntentHead(
        labels=list(LABELS),
        config=cfg,
        ngrams=ngrams,
        coef=coef,
        intercept=np.zeros(3, dtype=np.float32),
        threshold=1.0,
        oos_score="oos_gap",
    )


def test_decide_applies_the_chosen_score_and_round_trips(tmp_path):
    head = _toy_head()
    emb = np.array([[2.5, 0.0, 0.0, 0.0], [2.5, 0.0, 2.0, 0.0]], dtype=np.float32)
    texts = ["alpha", "alpha"]
    z = head.logits(emb, texts)
    np.testing.assert_allclose(z, emb[:, :3], atol=1e-5)
    decided = [name for name, _ in head.decide(softmax(z), z)]
    assert decided == ["a", OUT_OF_SCOPE]  # gaps 2.5 and 0.5 against threshold 1.0
    # oos_gap survives the probabilities-only path (log-probability differences)
    assert [n for n, _ in head.decide(softmax(z))] == decided
    head.save(tmp_path, "h")
    again = IntentHead.load(tmp_path, "h")
    assert again.oos_score == "oos_gap"
    assert [n for n, _ in again.decide(softmax(z), z)] == decided


def test_logit_scores_refuse_to_decide_from_probabilities_alone():
    head = _toy_head()
    head.oos_score = "maxlogit"
    with pytest.raises(ValueError, match="needs logits"):
        head.decide(softmax(LOGITS))
    assert [n for n, _ in head.decide(softmax(LOGITS), LOGITS)] == ["a", OUT_OF_SCOPE]


def test_models_saved_before_oos_scores_load_as_msp(tmp_path):
    head = _toy_head()
    head.save(tmp_path, "h")
    meta = json.loads((tmp_path / "h.json").read_text())
    del meta["oos_score"]
    (tmp_path / "h.json").write_text(json.dumps(meta))
    assert IntentHead.load(tmp_path, "h").oos_score == "msp"


def test_cached_vectorizers_match_fresh_ones():
    ngrams = NgramFeatures(HeadConfig()).fit(["lost my card", "card arrived", "top up"])
    first = ngrams.transform(["my card is lost"]).toarray()
    again = ngrams.transform(["my card is lost"]).toarray()
    fresh = NgramFeatures(HeadConfig(), ngrams.vocab, ngrams.idf).transform(["my card is lost"])
    np.testing.assert_allclose(first, again)
    np.testing.assert_allclose(first, fresh.toarray())
    assert first.any()


@pytest.mark.parametrize("char_only", [False, True])
def test_single_utterance_fast_path_matches_the_batch_path(char_only):
    texts = ["lost my card", "card lost again", "top up failed", "top-up not working",
             "我的卡丢了", "充值失败了", "what is my balance", "balance please"]  # fmt: skip
    labels = ["lost", "lost", "topup", "topup", "lost", "topup", "balance", "balance"]
    rng = np.random.default_rng(1)
    emb = rng.normal(size=(len(texts), 16)).astype(np.float32)
    head = IntentHead.fit(emb, texts, labels, HeadConfig(char_only=char_only), calibrate=False)
    probe = ["my card is lost!!", "充值", "zzz unseen words", "Balance, please"]
    batch = head.logits(rng.normal(size=(len(probe), 16)).astype(np.float32), probe)
    rng = np.random.default_rng(1)
    rng.normal(size=(len(texts), 16))  # same draws as above for the probe embeddings
    vecs = rng.normal(size=(len(probe), 16)).astype(np.float32)
    for i, text in enumerate(probe):
        one = head.logits(vecs[i : i + 1], [text])
        np.testing.assert_allclose(one[0], batch[i], rtol=1e-4, atol=1e-4)


def test_calibration_with_real_oos_examples_records_its_choice():
    rng = np.random.default_rng(3)
    centers = rng.normal(size=(4, 16)) * 3
    texts, labels, rows = [], [], []
    for j, name in enumerate(["w", "x", "y", "z"]):
        for i in range(40):
            rows.append(centers[j] + rng.normal(size=16))
            texts.append(f"{name}{name} word{i % 7}")
            labels.append(name)
    for i in range(60):  # real out-of-scope examples scattered away from the intents
        rows.append(rng.normal(size=16) * 4)
        texts.append(f"other thing {i}")
        labels.append(OUT_OF_SCOPE)
    emb = np.array(rows, dtype=np.float32)
    head = IntentHead.fit(emb, texts, labels, HeadConfig(folds=3))
    cal = head.calibration
    assert cal["oos_source"] == "real"
    assert head.oos_score == cal["score"] and cal["score"] in OOS_SCORES
    assert set(cal["cv_auroc"]) == set(OOS_SCORES)
    assert cal["cv_in_scope_accuracy"] > 0.85 and cal["cv_oos_recall"] > 0.5
    z = head.logits(emb, texts)
    decided = np.array([n for n, _ in head.decide(softmax(z), z)])
    assert (decided[np.array(labels) != OUT_OF_SCOPE] == np.array(labels)[:160]).mean() > 0.9
