"""`hotline kb import FOLDER` and `hotline kb search "question" [--k 3] [--json]`.

The index lives in ``<data_dir>/kb`` (``--index-dir`` to change it). Import is incremental:
only new or changed paragraphs are embedded. Malformed articles are listed (file and
problem) and skipped; the others are imported (``--strict`` makes that exit 1).
"""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from assist.embedding import Embedder, HashingEmbedder, load_e5
from assist.kb import KnowledgeBase
from core.clock import SystemClock

app = typer.Typer(help="Knowledge base for live agent assist: import articles, search them.")


class EmbedderName(StrEnum):
    e5 = "e5"
    hashing = "hashing"


IndexDir = Annotated[
    Path | None, typer.Option("--index-dir", help="Index folder (default: <data_dir>/kb)")
]
EmbedderOpt = Annotated[
    EmbedderName,
    typer.Option(help="e5 = multilingual E5 (product); hashing = keyword-only offline mode"),
]


def _open(index_dir: Path | None, embedder: EmbedderName) -> KnowledgeBase:
    from core.settings import Settings

    settings = Settings()
    emb: Embedder
    if embedder is EmbedderName.hashing:
        emb = HashingEmbedder()
    else:
        from models import CATALOG, Registry

        emb = load_e5(Registry(CATALOG, models_dir=settings.models_dir))
    folder = index_dir or settings.data_dir / "kb"
    return KnowledgeBase.open(folder, embedder=emb, clock=SystemClock())


@app.command("import")
def import_(
    folder: Annotated[Path, typer.Argument(help="Folder of Markdown articles (searched deeply)")],
    index_dir: IndexDir = None,
    embedder: EmbedderOpt = EmbedderName.e5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    strict: Annotated[bool, typer.Option(help="Exit 1 if any article was skipped")] = False,
) -> None:
    """Import (or re-import) a folder of articles; edits become new versions."""
    kb = _open(index_dir, embedder)
    report = kb.import_folder(folder)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(
            f"added {len(report.added)}, updated {len(report.updated)}, "
            f"unchanged {len(report.unchanged)}, embedded {report.embedded_passages} passages; "
            f"{len(kb.articles())} articles, {kb.passage_count} passages in the index"
        )
        for p in report.problems:
            typer.echo(f"skipped {p.path}: {p.problem}", err=True)
    if strict and report.problems:
        raise typer.Exit(1)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="The question, in English or Chinese")],
    k: Annotated[int, typer.Option("--k", min=1, max=20, help="How many answers")] = 3,
    language: Annotated[str | None, typer.Option(help="Only articles in en or zh")] = None,
    on: Annotated[str | None, typer.Option(help="Validity date YYYY-MM-DD (default today)")] = None,
    index_dir: IndexDir = None,
    embedder: EmbedderOpt = EmbedderName.e5,
    as_json: Annotated[bool, typer.Option("--json", help="Print hits as JSON")] = False,
) -> None:
    """Hybrid (E5 + BM25) search; prints the answering passage, not just the title."""
    try:
        day = date.fromisoformat(on) if on else None
    except ValueError:
        raise typer.BadParameter(f"--on must be YYYY-MM-DD, got {on!r}") from None
    kb = _open(index_dir, embedder)
    hits = kb.search(query, k=k, language=language, on=day)
    if as_json:
        typer.echo(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=2))
        return
    if not kb.passage_count:
        typer.echo("The knowledge base is empty: run `hotline kb import FOLDER` first.", err=True)
        return
    if not hits:
        typer.echo("No matching passage.")
    for i, h in enumerate(hits, 1):
        typer.echo(f"{i}. {h.title}  [{h.article_id} v{h.version}, score {h.score:.4f}]")
        typer.echo(f"   {h.text}\n")
