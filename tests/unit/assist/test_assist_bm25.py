import numpy as np
import pytest

from assist.bm25 import Bm25Index
from assist.tokens import normalise, tokenize


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("How do I block my stolen cards?", ["block", "stolen", "card"]),
        ("我的卡丢了", ["我的", "的卡", "卡丢", "丢了"]),
        ("卡", ["卡"]),
        ("ATM取款 fees", ["atm", "取款", "fee"]),
        ("ＡＴＭ　１２３", ["atm", "123"]),  # full-width folds to ASCII
    ],
)
def test_tokenize(text: str, tokens: list[str]):
    assert tokenize(text) == tokens


def test_normalise_folds_width_and_space():
    assert normalise("  Guaranteed   RETURNS ") == "guaranteed returns"


def test_bm25_ranks_the_matching_document_first_and_respects_mask():
    docs = [
        tokenize(t) for t in ["lost card block", "branch opening hours", "银行卡挂失", "card fees"]
    ]
    index = Bm25Index(docs)
    assert index.search(tokenize("block my lost card"), 2)[0][0] == 0
    assert index.search(tokenize("挂失"), 1)[0][0] == 2
    mask = np.array([False, True, True, True])
    assert all(row != 0 for row, _ in index.search(tokenize("lost card"), 3, mask))
    assert index.search(tokenize("nothing matches"), 3) == []


def test_bm25_empty_index():
    assert Bm25Index([]).search(["x"], 3) == []


def test_search_matches_exact_scores_and_truncation_keeps_the_highest_impacts():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(30)]
    docs = [list(rng.choice(words, size=rng.integers(3, 12))) for _ in range(400)]
    exact = Bm25Index(docs)
    query = ["w1", "w2", "w3"]
    scores = exact.scores(query)
    want = sorted(range(len(docs)), key=lambda d: (-scores[d], d))[:5]
    assert [r for r, _ in exact.search(query, 5)] == want
    short = Bm25Index(docs, max_postings=40)  # w1 occurs in far more than 40 documents
    one = exact.scores(["w1"])
    assert (one > 0).sum() > 40
    want_one = sorted(range(len(docs)), key=lambda d: (-one[d], d))[:5]
    assert [r for r, _ in short.search(["w1"], 5)] == want_one
