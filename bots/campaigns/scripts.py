"""Campaign scripts: the YAML templates in ``templates/`` and rendering with contact variables.

A script is the outbound bot's turn plan: ``greeting`` + ``message`` on answer, ``voicemail``
when a machine answers (left only if the campaign's ``voicemail`` setting says so), and
``responses`` keyed by keypad digit (the voice pipeline maps recognised intents to the same
keys) with the disposition each one records. Missing variables render as ``{name}`` and are
reported, so a preview shows exactly what is wrong with a list.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bots.campaigns.dispositions import Disposition
from bots.campaigns.errors import CampaignConfigError

TEMPLATES_DIR = Path(__file__).with_name("templates")


class Response(BaseModel):
    model_config = ConfigDict(extra="forbid")
    say: str
    disposition: Disposition
    handoff: bool = False
    score: int | None = None


class Script(BaseModel):
    model_config = ConfigDict(extra="forbid")
    greeting: str
    message: str
    voicemail: str = ""
    no_input: str = ""
    responses: dict[str, Response] = Field(default_factory=dict)


class Template(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int
    name: str
    title: str
    language: str
    script: Script
    settings: dict[str, Any] = Field(default_factory=dict)


def parse_script(data: dict, *, where: str = "script") -> Script:
    try:
        return Script.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        raise CampaignConfigError(
            f"{where}: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
        ) from e


def load_template(name: str, *, directory: Path = TEMPLATES_DIR) -> Template:
    path = directory / f"{name}.yaml"
    if not path.is_file() or "/" in name or name.startswith("."):
        raise CampaignConfigError(f"no campaign template named {name!r}")
    try:
        tpl = Template.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (yaml.YAMLError, ValidationError) as e:
        raise CampaignConfigError(f"{path.name}: {e}") from e
    if tpl.version != 1:
        raise CampaignConfigError(f"{path.name}: unsupported version {tpl.version}")
    return tpl


def list_templates(*, directory: Path = TEMPLATES_DIR) -> list[Template]:
    return [load_template(p.stem, directory=directory) for p in sorted(directory.glob("*.yaml"))]


class _Keep(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(text: str, variables: dict[str, str]) -> tuple[str, list[str]]:
    """Fill ``{var}`` placeholders; returns the text and the names that had no value."""
    names = [f for _, f, _, _ in string.Formatter().parse(text) if f]
    missing = sorted({n for n in names if n not in variables})
    try:
        return text.format_map(_Keep(variables)), missing
    except (ValueError, IndexError):  # a stray brace in a template: show it unrendered
        return text, missing


def render_script(script: Script, variables: dict[str, str]) -> dict[str, Any]:
    """Every line of the script rendered for one contact (what the preview shows)."""
    missing: set[str] = set()
    out: dict[str, Any] = {}
    for key in ("greeting", "message", "voicemail", "no_input"):
        out[key], m = render(getattr(script, key), variables)
        missing |= set(m)
    out["responses"] = {}
    for k, r in script.responses.items():
        said, m = render(r.say, variables)
        missing |= set(m)
        out["responses"][k] = {"say": said, "disposition": r.disposition.value}
    out["missing_variables"] = sorted(missing)
    return out
