"""`hotline qa score` through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from qa.commands import app
from tests.unit.qa.conftest import fixture_files

runner = CliRunner()


def test_score_json_lines_shape() -> None:
    files = [str(p) for p in fixture_files()[:3]]
    result = runner.invoke(app, ["score", *files, "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3
    for line in lines:
        assert set(line) == {"call_id", "score", "auto_fail", "items"}
        assert len(line["items"]) == 10
        for item in line["items"].values():
            assert item["verdict"] in {"pass", "fail", "na"}
            assert all(isinstance(i, int) for i in item["evidence"])


def test_bad_files_reported_others_still_scored(tmp_path: Path) -> None:
    good = fixture_files()[0]
    (tmp_path / "broken.json").write_text("{nope", encoding="utf-8")
    (tmp_path / "noagent.json").write_text(
        json.dumps(
            {
                "call_id": "n",
                "language": "en",
                "turns": [{"speaker": "customer", "start": 0, "end": 1, "text": "hi"}],
            }
        ),
        encoding="utf-8",
    )
    (tmp_path / "klingon.json").write_text(
        json.dumps(
            {
                "call_id": "k",
                "language": "tlh",
                "turns": [{"speaker": "agent", "start": 0, "end": 1, "text": "nuqneH"}],
            }
        ),
        encoding="utf-8",
    )
    result = runner.invoke(
        app,
        [
            "score",
            str(tmp_path / "broken.json"),
            str(good),
            str(tmp_path / "noagent.json"),
            str(tmp_path / "klingon.json"),
            "--json",
        ],
    )
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["call_id"] for line in lines] == [json.loads(good.read_text())["call_id"]]
    assert "transcript_json" in result.stderr and "broken.json" in result.stderr
    assert "transcript_no_agent" in result.stderr
    assert "transcript_language" in result.stderr


def test_bad_scorecard_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "card.yaml"
    bad.write_text(
        "version: 1\nname: x\nchecks: {a: {type: nope}}\nsections: []\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["score", str(fixture_files()[0]), "--scorecard", str(bad)])
    assert result.exit_code == 2
    assert "scorecard_unknown_check_type" in result.stderr and "card.yaml" in result.stderr
    assert runner.invoke(app, ["validate", str(bad)]).exit_code == 2


def test_text_output_and_folder_argument() -> None:
    folder = fixture_files()[0].parent
    result = runner.invoke(app, ["score", str(folder)])
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == len(fixture_files())
    assert "AUTO-FAIL" in result.stdout


def test_bench_smoke_prints_valid_json() -> None:
    from bench.qa_throughput import run

    result = run(contacts=5, embedding_contacts=0, embeddings=False, write=False)
    json.dumps(result)
    assert result["name"] == "qa_throughput"
    assert result["metrics"]["text_only"]["contacts"] == 5
