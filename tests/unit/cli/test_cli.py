"""The CLI's own commands, and its one-line errors on bad configuration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def hotline(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_models_list_json() -> None:
    out = hotline("models", "list", "--json")
    assert out.returncode == 0, out.stderr
    names = {m["name"] for m in json.loads(out.stdout)}
    assert {"whisper-tiny-en", "whisper-base", "piper-joe-en-us", "silero-vad"} <= names


def test_migrate_and_seed_then_seed_again(tmp_path: Path) -> None:
    env = {"HOTLINE_DATA_DIR": str(tmp_path)}
    assert hotline("migrate", env=env).returncode == 0
    first = hotline("seed", env=env)
    assert first.returncode == 0 and "admin" in first.stdout and "agent6" in first.stdout
    again = hotline("seed", env=env)
    assert again.returncode == 0 and "already seeded" in again.stdout
    assert "demo centre: 7 agents" in first.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HOTLINE_PORT": "0"}, "setting port (env HOTLINE_PORT)"),
        ({"HOTLINE_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/x"}, "database_url"),
        ({"HOTLINE_BUS_URL": "redis://127.0.0.1:1/0"}, "bus_url: cannot reach Redis"),
    ],
)
def test_bad_configuration_is_one_line_and_nonzero(
    env: dict[str, str], message: str, tmp_path: Path
) -> None:
    out = hotline("serve", env={"HOTLINE_DATA_DIR": str(tmp_path), **env})
    assert out.returncode == 2
    lines = [x for x in out.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], out.stderr


def test_malformed_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "h.yaml"
    cfg.write_text("port: [1,\n")
    out = hotline("migrate", env={"HOTLINE_CONFIG": str(cfg)})
    assert out.returncode == 2 and "h.yaml line" in out.stderr and "invalid YAML" in out.stderr


def test_mask_text_and_stdin() -> None:
    out = hotline("mask", "card 4111 1111 1111 1111 and id 11010519491231002X")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "card ************1111 and id 110105********002X"
    piped = subprocess.run(
        [sys.executable, "-m", "cli", "mask", "--json"],
        cwd=ROOT,
        input="mail bob@example.com\nno pii here\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [json.loads(line) for line in piped.stdout.splitlines()]
    assert [line["masked"] for line in lines] == ["mail b***@example.com", "no pii here"]
