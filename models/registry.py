"""Model registry: where each model comes from, checking it, and loading it once per process.

The cache of loaded models is the only process-wide mutable state Hotline allows: every
call shares one Whisper, one embedder, one voice. Nothing here downloads: a model is a file
inside a pinned PyPI package, and it is used only after its sha256 matched.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from models.errors import ModelHashMismatch, ModelMissing

T = TypeVar("T")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ModelFile:
    path: str
    sha256: str
    size: int
    module: str | None = None  # file lives in another package than the entry's
    package: str | None = None
    alias: str | None = None  # name in a join's ``parts`` when several packages ship one path

    @property
    def key(self) -> str:
        return self.alias or self.path


@dataclass(frozen=True)
class PartsJoin:
    """Split weights joined into one prepared file (checked by the joined sha256)."""

    target: str
    parts: tuple[str, ...]
    sha256: str


@dataclass(frozen=True)
class ModelEntry:
    name: str
    role: str
    package: str
    version: str
    module: str
    subdir: str
    licence: str
    languages: tuple[str, ...]
    description: str
    files: tuple[ModelFile, ...]
    join: PartsJoin | None = None

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _package_dir(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissing(f"python package for module {module!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


@dataclass
class VerifyResult:
    name: str
    ok: bool
    problems: list[str] = field(default_factory=list)


class Registry:
    """Looks up, verifies, prepares and loads the catalogued models."""

    _cache: ClassVar[dict[Hashable, Any]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, entries: tuple[ModelEntry, ...], *, models_dir: Path):
        self.entries = {e.name: e for e in entries}
        self.models_dir = models_dir

    def entry(self, name: str) -> ModelEntry:
        try:
            return self.entries[name]
        except KeyError:
            raise ModelMissing(f"unknown model {name!r}; see `hotline models list`") from None

    def file_path(self, entry: ModelEntry, f: ModelFile) -> Path:
        try:
            base = _package_dir(f.module or entry.module)
        except ModelMissing as e:
            pkg = f.package or entry.requirement
            raise ModelMissing(f"model {entry.name}: {e}; run `pip install {pkg}`") from None
        return base / entry.subdir / f.path if entry.subdir else base / f.path

    def path(self, name: str) -> Path:
        """Directory (or file for single-file models) to hand to the model's loader."""
        entry = self.entry(name)
        if entry.join is not None:
            target = self.models_dir / entry.name
            if not (target / entry.join.target).exists():
                raise ModelMissing(f"model {name} is not prepared; run `hotline models prepare`")
            return target
        first = self.file_path(entry, entry.files[0])
        return first.parent if len(entry.files) > 1 else first

    def verify(self, name: str, *, check_hash: bool = True) -> VerifyResult:
        entry = self.entry(name)
        res = VerifyResult(name, True)
        for f in entry.files:
            try:
                p = self.file_path(entry, f)
            except ModelMissing as e:
                res.problems.append(str(e))
                continue
            if not p.is_file():
                res.problems.append(f"{f.key}: missing at {p}")
            elif p.stat().st_size != f.size:
                res.problems.append(f"{f.key}: size {p.stat().st_size} != {f.size}")
            elif check_hash and sha256_file(p) != f.sha256:
                pkg = f.package or entry.requirement
                res.problems.append(f"{f.key}: sha256 mismatch; reinstall {pkg}")
        if entry.join is not None:
            joined = self.models_dir / entry.name / entry.join.target
            if not joined.is_file():
                res.problems.append(f"{entry.join.target}: not prepared (hotline models prepare)")
            elif check_hash and sha256_file(joined) != entry.join.sha256:
                res.problems.append(f"{entry.join.target}: sha256 mismatch; re-run prepare")
        res.ok = not res.problems
        return res

    def prepare(self, name: str) -> Path:
        """Make a model usable: verify its files, join split weights, link the rest."""
        entry = self.entry(name)
        src = self.verify(name, check_hash=True)
        problems = [p for p in src.problems if "not prepared" not in p]
        if problems:
            raise ModelHashMismatch(f"model {name}: " + "; ".join(problems))
        if entry.join is None:
            return self.path(name)
        target = self.models_dir / entry.name
        target.mkdir(parents=True, exist_ok=True)
        by_name = {f.key: f for f in entry.files}
        joined = target / entry.join.target
        if not joined.exists() or sha256_file(joined) != entry.join.sha256:
            tmp = joined.with_name(f"{joined.name}.{os.getpid()}.tmp")  # one per process
            with tmp.open("wb") as out:
                for part in entry.join.parts:
                    with self.file_path(entry, by_name[part]).open("rb") as fh:
                        while chunk := fh.read(_CHUNK):
                            out.write(chunk)
            if sha256_file(tmp) != entry.join.sha256:
                tmp.unlink()
                raise ModelHashMismatch(f"model {name}: joined weights do not match the pin")
            os.replace(tmp, joined)  # atomic: never a half-written model
        for f in entry.files:
            if f.key in entry.join.parts:
                continue
            link = target / Path(f.path).name  # flat: the loader finds every file by name
            if not link.exists():
                with contextlib.suppress(FileExistsError):  # another process linked it first
                    link.symlink_to(self.file_path(entry, f))
        return target

    def shared(self, key: Hashable, factory: Callable[[], T]) -> T:
        """Load once per process behind a lock, then hand the same object to every caller."""
        cache = Registry._cache
        if key in cache:
            return cache[key]
        with Registry._lock:
            if key not in cache:
                cache[key] = factory()
            return cache[key]

    @classmethod
    def loaded(cls) -> list[Hashable]:
        return list(cls._cache)
