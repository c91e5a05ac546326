"""The envelope every benchmark result shares: name, git sha, machine, params, metrics."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).parent / "results"


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        mem_kb = 0
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
    }


def git_sha() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).parent,
        )
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def finish(name: str, result: dict[str, Any], *, write: bool = True) -> dict[str, Any]:
    """Wrap a benchmark's result in the shared envelope and write bench/results/<name>.json."""
    envelope = {
        "name": name,
        "git_sha": git_sha(),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        **{k: v for k, v in result.items() if k != "name"},
    }
    if write:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        (RESULTS_DIR / f"{name}.json").write_text(
            json.dumps(envelope, indent=2, ensure_ascii=False)
        )
    return envelope
