"""Knowledge-base articles: Markdown with YAML front matter, read from a folder.

Front matter fields: ``title`` (required), ``language`` (``en``/``zh``, required), ``tags``,
``product``, ``valid_from``, ``valid_to`` and an optional ``id`` (default: the file's path
below the folder, e.g. ``en-lost-stolen-card``). A malformed file is skipped and reported with
its name and the problem, the rest still load (the Rasa way of treating bad data).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from assist.errors import ArticleInvalid

LANGUAGES = ("en", "zh")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


@dataclass(frozen=True)
class Article:
    """One version of one article. ``version`` is assigned by the knowledge base."""

    id: str
    title: str
    body: str
    language: str
    tags: tuple[str, ...] = ()
    product: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    version: int = 1
    source: str | None = field(default=None, compare=False)

    def valid_on(self, day: date) -> bool:
        if self.valid_from and day < self.valid_from:
            return False
        return not (self.valid_to and day > self.valid_to)

    @property
    def fingerprint(self) -> str:
        """Hash of the content (not the version): an unchanged re-import is not a new version."""
        content = [self.title, self.body, self.language, list(self.tags), self.product,
                   str(self.valid_from), str(self.valid_to)]  # fmt: skip
        return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()

    def with_version(self, version: int) -> Article:
        return replace(self, version=version)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title, "body": self.body, "language": self.language,
            "tags": list(self.tags), "product": self.product,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "version": self.version, "source": self.source,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Article:
        return cls(
            id=d["id"], title=d["title"], body=d["body"], language=d["language"],
            tags=tuple(d.get("tags") or ()), product=d.get("product"),
            valid_from=_date(d.get("valid_from"), "valid_from"),
            valid_to=_date(d.get("valid_to"), "valid_to"),
            version=int(d.get("version", 1)), source=d.get("source"),
        )  # fmt: skip


@dataclass(frozen=True)
class ImportProblem:
    path: str
    problem: str


def _date(value: object, name: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ArticleInvalid(f"{name} must be a date like 2026-01-31, got {value!r}")


def parse_article(text: str, *, article_id: str, source: str | None = None) -> Article:
    """Parse one Markdown article; raises :class:`ArticleInvalid` naming the problem."""
    if not text.startswith("---"):
        raise ArticleInvalid("missing YAML front matter (the file must start with '---')")
    parts = re.split(r"^---\s*$", text, maxsplit=2, flags=re.MULTILINE)
    if len(parts) < 3:
        raise ArticleInvalid("front matter is not closed by a '---' line")
    try:
        meta = yaml.safe_load(parts[1])
    except yaml.YAMLError as e:
        raise ArticleInvalid(f"front matter is not valid YAML: {e}".splitlines()[0]) from e
    if not isinstance(meta, dict):
        raise ArticleInvalid("front matter must be a mapping of fields")
    unknown = set(meta) - {"id", "title", "tags", "language", "product", "valid_from", "valid_to"}
    if unknown:
        raise ArticleInvalid(f"unknown front-matter field(s): {', '.join(sorted(unknown))}")
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ArticleInvalid("title is missing or empty")
    language = meta.get("language")
    if language not in LANGUAGES:
        raise ArticleInvalid(f"language must be one of {', '.join(LANGUAGES)}, got {language!r}")
    tags = meta.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",") if t.strip()]
    if not isinstance(tags, list) or not all(isinstance(t, str | int) for t in tags):
        raise ArticleInvalid("tags must be a list of words")
    product = meta.get("product")
    if product is not None and not isinstance(product, str):
        raise ArticleInvalid("product must be text")
    valid_from = _date(meta.get("valid_from"), "valid_from")
    valid_to = _date(meta.get("valid_to"), "valid_to")
    if valid_from and valid_to and valid_to < valid_from:
        raise ArticleInvalid("valid_to is before valid_from")
    aid = str(meta.get("id") or article_id)
    if not _ID_RE.match(aid):
        raise ArticleInvalid(f"id {aid!r} must be lower-case letters, digits, '.', '_' or '-'")
    body = parts[2].strip()
    if not body:
        raise ArticleInvalid("the article has no body text")
    return Article(
        id=aid, title=title.strip(), body=body, language=language,
        tags=tuple(str(t) for t in tags), product=product, valid_from=valid_from,
        valid_to=valid_to, source=source,
    )  # fmt: skip


def read_folder(folder: Path) -> tuple[list[Article], list[ImportProblem]]:
    """Every ``*.md`` below ``folder``; bad files come back as problems, never as an exception."""
    articles: list[Article] = []
    problems: list[ImportProblem] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.rglob("*.md")):
        rel = path.relative_to(folder).as_posix()
        default_id = rel.removesuffix(".md").replace("/", "-").lower()
        try:
            art = parse_article(path.read_text(encoding="utf-8"), article_id=default_id, source=rel)
        except UnicodeDecodeError:
            problems.append(ImportProblem(rel, "not UTF-8 text"))
            continue
        except ArticleInvalid as e:
            problems.append(ImportProblem(rel, e.message))
            continue
        if art.id in seen:
            problems.append(ImportProblem(rel, f"duplicate id {art.id!r} (also in {seen[art.id]})"))
            continue
        seen[art.id] = rel
        articles.append(art)
    return articles, problems
