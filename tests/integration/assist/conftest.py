"""The demo KB indexed once per session with the real multilingual E5 (from the registry)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assist.embedding import load_e5
from assist.kb import KnowledgeBase
from core.clock import FrozenClock
from models import CATALOG, Registry

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def e5_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    registry = Registry(CATALOG, models_dir=tmp_path_factory.mktemp("models"))
    try:
        embedder = load_e5(registry)
    except Exception as e:  # the model package is not installed here
        pytest.skip(f"e5-small-multilingual unavailable: {e}")
    kb = KnowledgeBase(
        embedder=embedder, clock=FrozenClock(), index_dir=tmp_path_factory.mktemp("kb")
    )
    report = kb.import_folder(ROOT / "assist" / "kb")
    assert not report.problems
    return kb


@pytest.fixture
def assist_fixtures() -> Path:
    return ROOT / "tests" / "fixtures" / "assist"
