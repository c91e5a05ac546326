import json
from pathlib import Path

from typer.testing import CliRunner

from assist.commands import app

runner = CliRunner()


def test_import_then_search_json(tmp_path: Path, fixtures_dir: Path):
    idx = ["--index-dir", str(tmp_path), "--embedder", "hashing"]
    res = runner.invoke(app, ["import", str(fixtures_dir / "kb_mixed"), *idx, "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert sorted(report["added"]) == ["en-expired", "en-good-one", "zh-good"]
    assert {p["path"] for p in report["problems"]} >= {"en/bad-yaml.md", "en/bad-language.md"}

    res = runner.invoke(app, ["search", "cheque over 5000 at the counter", *idx, "--k", "1",
                              "--json", "--on", "2026-01-01"])  # fmt: skip
    assert res.exit_code == 0, res.output
    [hit] = json.loads(res.stdout)
    assert hit["article_id"] == "en-good-one" and "counter" in hit["text"]

    res = runner.invoke(app, ["search", "支票", *idx, "--language", "zh", "--on", "2026-01-01"])
    assert res.exit_code == 0 and "zh-good" in res.stdout

    res = runner.invoke(app, ["import", str(fixtures_dir / "kb_mixed"), *idx, "--strict"])
    assert res.exit_code == 1 and "unchanged 3" in res.stdout


def test_search_on_empty_kb_says_so(tmp_path: Path):
    idx = ["--index-dir", str(tmp_path), "--embedder", "hashing"]
    res = runner.invoke(app, ["search", "anything", *idx])
    assert res.exit_code == 0 and "empty" in res.output
    assert runner.invoke(app, ["search", "x", *idx, "--on", "tomorrow"]).exit_code != 0
