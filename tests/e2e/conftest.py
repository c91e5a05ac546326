"""Shared browser-test fixtures: the real app (no model features) served from a thread."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import FeatureSettings, Settings
from tests.live_server import AppThread


@pytest.fixture
def light_settings(tmp_path: Path) -> Settings:
    """Every model-backed feature off: the pages and APIs only."""
    return Settings(
        env="test",
        data_dir=tmp_path,
        bus_url="memory://",
        log_json=True,
        secret_key="test-secret-0123456789abcdef0123456789",
        features=FeatureSettings(voice=False, bots=False, assist=False, qa=False, campaigns=False),
    )


@pytest.fixture
def app_thread(light_settings, seeded_sqlite) -> Iterator[tuple[AppThread, dict[str, str]]]:  # type: ignore[no-untyped-def]
    """The app on a copy of the seeded store, and the demo users' passwords."""
    from app import create_app

    template, passwords = seeded_sqlite
    shutil.copy(template, light_settings.data_dir / "hotline.db")
    with AppThread(create_app(light_settings)) as srv:
        yield srv, passwords
