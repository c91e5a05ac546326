"""Fixtures for assist unit tests: the hashing embedder stands in for E5 (engine boundary)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assist.embedding import HashingEmbedder
from assist.kb import KnowledgeBase
from core.clock import FrozenClock

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "assist"
DEMO_KB = Path(__file__).resolve().parents[3] / "assist" / "kb"


class CountingEmbedder(HashingEmbedder):
    """Counts passages embedded, to prove re-imports embed only what changed."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded = 0

    def passage(self, texts):  # type: ignore[no-untyped-def]
        self.embedded += len(texts)
        return super().passage(texts)

    def query(self, texts: str) -> np.ndarray:
        return super().query(texts)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def embedder() -> CountingEmbedder:
    return CountingEmbedder()


@pytest.fixture
def demo_kb(clock: FrozenClock) -> KnowledgeBase:
    kb = KnowledgeBase(embedder=HashingEmbedder(), clock=clock)
    report = kb.import_folder(DEMO_KB)
    assert not report.problems
    return kb


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def demo_kb_dir() -> Path:
    return DEMO_KB


@pytest.fixture
def counting() -> type[CountingEmbedder]:
    return CountingEmbedder
