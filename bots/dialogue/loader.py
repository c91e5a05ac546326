"""Load, validate and hot-reload flow files.

Every ``*.yaml`` in the flows folder is validated against :mod:`bots.dialogue.schema`, then
the whole set is cross-checked: step links, response names and sub-flows must exist. An error
names the file, the flow and the step (``demo.yaml: flows.lost_card.steps.block.next → 'nope'
is not a step of this flow``). :class:`FlowLibrary` re-reads the folder when a file changes;
a broken edit is reported in ``errors`` and the previous flows keep serving, so an admin's
typo never takes the bot down.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
import yaml
from pydantic import ValidationError

from bots.dialogue.errors import FlowFormatError
from bots.dialogue.schema import END, BotSettings, Flow, FlowFile, Response, Step

log = structlog.get_logger("hotline.bots.flows")
DEFAULT_FLOWS_DIR = Path(__file__).resolve().parent.parent / "flows"


@dataclass(frozen=True)
class FlowBook:
    """A validated, cross-checked set of flows and responses: what the engine runs."""

    settings: BotSettings
    responses: dict[str, Response]
    flows: dict[str, Flow]
    sources: tuple[str, ...] = ()
    steps: dict[str, dict[str, Step]] = field(default_factory=dict)

    def step(self, flow: str, step_id: str) -> Step:
        return self.steps[flow][step_id]

    def following(self, flow: str, step_id: str) -> str | None:
        """The step after ``step_id`` in file order (None after the last): the default link."""
        ids = [s.id for s in self.flows[flow].steps]
        i = ids.index(step_id)
        return ids[i + 1] if i + 1 < len(ids) else None

    def first_step(self, flow: str) -> str:
        return self.flows[flow].steps[0].id

    def flow_for_intent(self, intent: str) -> str | None:
        for name, flow in self.flows.items():
            if intent in flow.trigger.intents:
                return name
        return None


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false. In YAML 1.1 the keys `on:`, `yes:` and `no:` that
    flows use would silently turn into booleans."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _loc_path(data: Any, loc: tuple[Any, ...]) -> str:
    """Turn a pydantic error location into `flows.<flow>.steps.<step id>.<field>`."""
    parts: list[str] = []
    node = data
    for i, key in enumerate(loc):
        if isinstance(key, int) and isinstance(node, list) and key < len(node):
            item = node[key]
            sid = item.get("id") if isinstance(item, dict) else None
            parts.append(str(sid) if sid and loc[i - 1] == "steps" else f"[{key}]")
            node = item
            continue
        parts.append(str(key))
        node = node.get(key) if isinstance(node, dict) else None
    return ".".join(parts)


def parse_flow_file(text: str, name: str) -> FlowFile:
    """Validate one file's text; errors name the file and the item path."""
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise FlowFormatError(f"invalid YAML{where}", path=name) from e
    if not isinstance(data, dict):
        raise FlowFormatError("a flow file must be a mapping with `version`", path=name)
    if "version" not in data:
        raise FlowFormatError('missing `version` (use version: "1")', path=name)
    try:
        return FlowFile.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        where = _loc_path(data, tuple(err["loc"]))
        raise FlowFormatError(err["msg"], path=f"{name}: {where}") from e


def build_book(files: dict[str, FlowFile]) -> FlowBook:
    """Merge files and cross-check links; a duplicate name across files is an error too."""
    settings: BotSettings | None = None
    responses: dict[str, Response] = {}
    flows: dict[str, Flow] = {}
    origin: dict[str, str] = {}
    for name, ff in files.items():
        if ff.settings is not None:
            if settings is not None:
                raise FlowFormatError("`settings` is given in more than one file", path=name)
            settings = ff.settings
        for key, resp in ff.responses.items():
            if key in responses:
                raise FlowFormatError(
                    f"response {key!r} is also defined in {origin['r:' + key]}",
                    path=f"{name}: responses.{key}",
                )
            responses[key], origin["r:" + key] = resp, name
        for key, flow in ff.flows.items():
            if key in flows:
                raise FlowFormatError(
                    f"flow {key!r} is also defined in {origin['f:' + key]}",
                    path=f"{name}: flows.{key}",
                )
            flows[key], origin["f:" + key] = flow, name
    settings = settings or BotSettings()
    steps: dict[str, dict[str, Step]] = {}
    for fname, flow in flows.items():
        ids = {s.id: s for s in flow.steps}
        steps[fname] = ids
        file = origin["f:" + fname]
        for s in flow.steps:
            here = f"{file}: flows.{fname}.steps.{s.id}"
            for fld, target in s.links():
                if target != END and target not in ids:
                    raise FlowFormatError(
                        f"{fld} → {target!r} is not a step of this flow (steps: {', '.join(ids)})",
                        path=here,
                    )
            for fld in ("say", "ask", "invalid", "confirm"):
                resp = getattr(s, fld)
                if resp is not None and resp not in responses:
                    raise FlowFormatError(f"{fld} → response {resp!r} is not defined", path=here)
            if s.flow is not None and s.flow not in flows:
                raise FlowFormatError(f"flow → {s.flow!r} is not a flow", path=here)
    if any(f.requires_verification for f in flows.values()) and settings.verify_flow not in flows:
        raise FlowFormatError(
            f"flows require verification but the verify flow {settings.verify_flow!r} is missing",
            path="settings.verify_flow",
        )
    for needed in ("utter_fallback",):
        if flows and needed not in responses:
            raise FlowFormatError(f"response {needed!r} is required", path="responses")
    return FlowBook(
        settings=settings,
        responses=responses,
        flows=flows,
        sources=tuple(sorted(files)),
        steps=steps,
    )


def load_flows(folder: Path) -> FlowBook:
    """Read and validate every ``*.yaml``/``*.yml`` in ``folder`` (raises FlowFormatError)."""
    paths = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    if not paths:
        raise FlowFormatError("no flow files (*.yaml) found", path=str(folder))
    files = {p.name: parse_flow_file(p.read_text(encoding="utf-8"), p.name) for p in paths}
    return build_book(files)


class FlowLibrary:
    """The live flow set of one folder, re-read when a file changes (checked at most per turn).

    ``book`` always holds the last set that validated; ``errors`` holds the messages of the
    newest failed attempt (empty when the folder is good).
    """

    def __init__(self, folder: Path = DEFAULT_FLOWS_DIR):
        self.folder = folder
        self._lock = threading.Lock()
        self._stamp = self._scan()
        self.book = load_flows(folder)
        self.errors: list[str] = []
        self.reloads = 0

    def _scan(self) -> tuple[tuple[str, int, int], ...]:
        paths = sorted([*self.folder.glob("*.yaml"), *self.folder.glob("*.yml")])
        out = []
        for p in paths:
            try:
                st = p.stat()
            except FileNotFoundError:
                continue
            out.append((p.name, st.st_mtime_ns, st.st_size))
        return tuple(out)

    def refresh(self) -> bool:
        """Reload if any file changed; True when a new set was loaded."""
        stamp = self._scan()
        if stamp == self._stamp:
            return False
        with self._lock:
            if stamp == self._stamp:
                return False
            self._stamp = stamp
            try:
                book = load_flows(self.folder)
            except FlowFormatError as e:
                self.errors = [e.message]
                log.warning("bots.flows.invalid", error=e.message)
                return False
            except OSError as e:
                self.errors = [f"{self.folder}: {e}"]
                return False
            self.book, self.errors = book, []
            self.reloads += 1
            log.info("bots.flows.reloaded", files=list(book.sources))
            return True
