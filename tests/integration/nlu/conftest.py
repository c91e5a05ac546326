"""Real-model fixtures for the NLU integration tests: one registry on the prepared models."""

from pathlib import Path

import pytest

from models import CATALOG, Registry

ROOT = Path(__file__).parents[3]


@pytest.fixture(scope="session")
def registry() -> Registry:
    return Registry(CATALOG, models_dir=ROOT / "var" / "models")
