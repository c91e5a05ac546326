"""The demo bot's real NLU, trained (or loaded from its cache) once per test session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def nlu_engine() -> Any:
    from bots.dialogue.assembly import train_demo_nlu
    from models import CATALOG, Registry

    registry = Registry(CATALOG, models_dir=REPO / "var" / "models")
    return train_demo_nlu(registry=registry, cache_dir=REPO / "var" / "nlu")
