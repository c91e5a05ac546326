"""Rasa 3 training data formats: nlu.yml, domain.yml, stories and rules — reader and writer.

Non-programmers edit these files, so the readers are precise about mistakes: every
:class:`~nlu.errors.NluDataError` names the file and the 1-based line. The writer emits the
same shape Rasa writes, so ``read_nlu_yaml(write_nlu_yaml(d))`` round-trips.
Source: RasaHQ/rasa:rasa/shared/nlu/training_data/formats/rasa_yaml.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nlu.errors import NluDataError
from nlu.training_data import EntitySpan, Example, TrainingData, normalise_label

SUPPORTED_VERSIONS = ("2.0", "3.0", "3.1")
_WRITE_VERSION = "3.1"
# [surface](entity) | [surface](entity:value) | [surface]{"entity": ..., "value": ...}
_ANNOTATION = re.compile(r"\[(?P<text>[^\]]+?)\](?:\((?P<short>[^)]+)\)|(?P<json>\{[^}]*\}))")
_ALLOWED_NLU_KEYS = {"intent", "synonym", "regex", "lookup"}


def _load(source: str | Path) -> tuple[str, str]:
    """Return (text, name) for a path or YAML text."""
    if isinstance(source, Path):
        try:
            return source.read_text(encoding="utf-8"), str(source)
        except FileNotFoundError:
            raise NluDataError("file not found", file=str(source)) from None
        except UnicodeDecodeError as e:
            raise NluDataError(f"not UTF-8 text ({e.reason})", file=str(source)) from e
    if "\n" not in source and len(source) < 4096 and source.endswith((".yml", ".yaml")):
        return _load(Path(source))
    return source, "<text>"


def _compose(text: str, name: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        raise NluDataError(f"malformed YAML: {e.problem or e}", file=name, line=line) from e
    except yaml.YAMLError as e:
        raise NluDataError(f"malformed YAML: {e}", file=name) from e


def _construct(node: yaml.Node) -> Any:
    return yaml.SafeLoader("").construct_object(node, deep=True)


def _mapping(node: yaml.Node, name: str, what: str) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        raise NluDataError(f"{what} must be a mapping", file=name, line=node.start_mark.line + 1)
    return {str(k.value): v for k, v in node.value}


def _check_version(top: dict[str, yaml.Node], name: str) -> None:
    v = top.get("version")
    if v is not None and str(v.value) not in SUPPORTED_VERSIONS:
        raise NluDataError(
            f"unsupported format version {v.value!r}; expected one of {', '.join(SUPPORTED_VERSIONS)}",  # noqa: E501
            file=name,
            line=v.start_mark.line + 1,
        )


def _example_lines(node: yaml.Node, name: str) -> list[tuple[str, int]]:
    """Items of an ``examples: |`` block (or a YAML list) with their file lines."""
    if isinstance(node, yaml.SequenceNode):
        out = []
        for item in node.value:
            if isinstance(item, yaml.MappingNode):  # Rasa's "- text: ..." form with metadata
                text = _mapping(item, name, "example").get("text")
                if text is None:
                    raise NluDataError(
                        "example needs a text", file=name, line=item.start_mark.line + 1
                    )
                out.append((str(text.value), item.start_mark.line + 1))
            else:
                out.append((str(item.value), item.start_mark.line + 1))
        return out
    if not isinstance(node, yaml.ScalarNode):
        raise NluDataError(
            "examples must be a block of '- ' lines", file=name, line=node.start_mark.line + 1
        )
    first = node.start_mark.line + (1 if node.style in ("|", ">") else 0) + 1
    out = []
    for i, raw in enumerate(str(node.value).splitlines()):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not line.startswith("- "):
            if line == "-":
                continue
            raise NluDataError(
                f"example must start with '- ', got {line[:60]!r}", file=name, line=first + i
            )
        out.append((line[2:].strip(), first + i))
    return out


def parse_annotated(
    text: str, *, file: str = "<text>", line: int | None = None
) -> tuple[str, tuple[EntitySpan, ...]]:
    """Strip ``[value](entity)`` markup and return the plain text and its entity spans."""
    plain, spans, pos = [], [], 0
    length = 0
    for m in _ANNOTATION.finditer(text):
        before = text[pos : m.start()]
        plain.append(before)
        length += len(before)
        surface = m.group("text")
        role = group = None
        if m.group("short") is not None:
            entity, _, value = m.group("short").partition(":")
            value = value or surface
        else:
            try:
                meta = json.loads(m.group("json"))
            except json.JSONDecodeError as e:
                raise NluDataError(
                    f"bad entity annotation {m.group(0)!r}: {e.msg}", file=file, line=line
                ) from e
            if not isinstance(meta, dict) or "entity" not in meta:
                raise NluDataError(
                    f'annotation {m.group(0)!r} needs an "entity" key', file=file, line=line
                )
            entity, value = str(meta["entity"]), str(meta.get("value", surface))
            role, group = meta.get("role"), meta.get("group")
        if not entity.strip():
            raise NluDataError(f"empty entity name in {m.group(0)!r}", file=file, line=line)
        spans.append(EntitySpan(length, length + len(surface), entity.strip(), value, role, group))
        plain.append(surface)
        length += len(surface)
        pos = m.end()
    plain.append(text[pos:])
    return "".join(plain), tuple(spans)


def read_nlu_yaml(source: str | Path) -> TrainingData:
    """Read a Rasa 3 ``nlu.yml`` (path or YAML text) into :class:`TrainingData`."""
    text, name = _load(source)
    root = _compose(text, name)
    data = TrainingData(source=name)
    if root is None:
        return data
    top = _mapping(root, name, "the top level")
    _check_version(top, name)
    nlu = top.get("nlu")
    if nlu is None:
        return data
    if not isinstance(nlu, yaml.SequenceNode):
        raise NluDataError(
            "'nlu' must be a list of blocks", file=name, line=nlu.start_mark.line + 1
        )
    for block in nlu.value:
        fields = _mapping(block, name, "an nlu block")
        line = block.start_mark.line + 1
        kinds = [k for k in fields if k in _ALLOWED_NLU_KEYS]
        if len(kinds) != 1:
            raise NluDataError(
                f"block needs exactly one of intent/synonym/regex/lookup, got {sorted(fields)}",
                file=name,
                line=line,
            )
        kind = kinds[0]
        label = str(fields[kind].value).strip()
        if not label:
            raise NluDataError(f"empty {kind} name", file=name, line=line)
        if "examples" not in fields:
            raise NluDataError(f"{kind} {label!r} has no examples", file=name, line=line)
        items = _example_lines(fields["examples"], name)
        if kind == "intent":
            for raw, ln in items:
                plain, spans = parse_annotated(raw, file=name, line=ln)
                if not plain.strip():
                    raise NluDataError(f"empty example in intent {label!r}", file=name, line=ln)
                data.examples.append(Example(plain, normalise_label(label), spans, line=ln))
                for s in spans:
                    if s.value != plain[s.start : s.end]:
                        data.synonyms.setdefault(plain[s.start : s.end].lower(), s.value)
        elif kind == "synonym":
            for raw, _ in items:
                data.synonyms[raw.lower()] = label
        elif kind == "regex":
            for raw, ln in items:
                try:
                    re.compile(raw)
                except re.error as e:
                    raise NluDataError(f"regex {label!r}: {e}", file=name, line=ln) from e
                data.regexes.setdefault(label, []).append(raw)
        else:
            data.lookups.setdefault(label, []).extend(raw for raw, _ in items)
    return data


def _annotate(ex: Example, synonyms: dict[str, str]) -> str:
    out, pos = [], 0
    for s in sorted(ex.entities, key=lambda s: s.start):
        out.append(ex.text[pos : s.start])
        surface = ex.text[s.start : s.end]
        if s.role is None and s.group is None and s.value == surface:
            out.append(f"[{surface}]({s.entity})")
        else:
            meta: dict[str, str] = {"entity": s.entity}
            if (
                s.value != surface and synonyms.get(surface.lower()) != s.value
            ) or s.value != surface:
                meta["value"] = s.value
            if s.role:
                meta["role"] = s.role
            if s.group:
                meta["group"] = s.group
            out.append(f"[{surface}]{json.dumps(meta, ensure_ascii=False)}")
        pos = s.end
    out.append(ex.text[pos:])
    return "".join(out)


class _Literal(str):
    """A string dumped as a YAML literal block, like Rasa's ``examples: |``."""


def _literal_representer(dumper: yaml.SafeDumper, value: _Literal) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style="|")


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Literal, _literal_representer)


def _block(lines: list[str]) -> _Literal:
    return _Literal("".join(f"- {ln}\n" for ln in lines))


def write_nlu_yaml(data: TrainingData) -> str:
    """Write :class:`TrainingData` as Rasa 3 ``nlu.yml`` text (reads back identically)."""
    blocks: list[dict[str, Any]] = []
    by_intent: dict[str, list[Example]] = {}
    for ex in data.examples:
        by_intent.setdefault(ex.intent, []).append(ex)
    for intent, exs in by_intent.items():
        blocks.append(
            {"intent": intent, "examples": _block([_annotate(e, data.synonyms) for e in exs])}
        )
    inverse: dict[str, list[str]] = {}
    annotated = {
        e.text[s.start : s.end].lower()
        for e in data.examples
        for s in e.entities
        if s.value != e.text[s.start : s.end]
    }
    for surface, canonical in data.synonyms.items():
        if surface not in annotated:
            inverse.setdefault(canonical, []).append(surface)
    for canonical, surfaces in inverse.items():
        blocks.append({"synonym": canonical, "examples": _block(surfaces)})
    for name, patterns in data.regexes.items():
        blocks.append({"regex": name, "examples": _block(patterns)})
    for name, values in data.lookups.items():
        blocks.append({"lookup": name, "examples": _block(values)})
    return yaml.dump(
        {"version": _WRITE_VERSION, "nlu": blocks},
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        width=10_000,
    )


# --- domain, stories, rules -------------------------------------------------------------


@dataclass
class Domain:
    """Rasa ``domain.yml``: what the dialogue engine needs (intents, entities, slots, responses)."""

    version: str = _WRITE_VERSION
    intents: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    slots: dict[str, dict[str, Any]] = field(default_factory=dict)
    responses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)
    forms: dict[str, dict[str, Any]] = field(default_factory=dict)
    session_config: dict[str, Any] = field(default_factory=dict)


@dataclass
class Story:
    """One story or rule: a name and its steps as Rasa writes them (intent, action, ...)."""

    name: str
    steps: list[dict[str, Any]]
    kind: str = "story"  # or "rule"
    line: int | None = None
    conditions: list[dict[str, Any]] = field(default_factory=list)


def _names(value: Any, file: str, line: int, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise NluDataError(f"'{what}' must be a list", file=file, line=line)
    out = []
    for item in value:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict) and len(item) == 1:
            out.append(str(next(iter(item))))
        else:
            raise NluDataError(f"bad item in '{what}': {item!r}", file=file, line=line)
    return out


def read_domain_yaml(source: str | Path) -> Domain:
    """Read a Rasa 3 ``domain.yml``; responses keep their variations (text, buttons, ...)."""
    text, name = _load(source)
    root = _compose(text, name)
    if root is None:
        return Domain()
    top = _mapping(root, name, "the top level")
    _check_version(top, name)

    def line(key: str) -> int:
        return top[key].start_mark.line + 1 if key in top else 1

    raw = {k: _construct(v) for k, v in top.items()}
    dom = Domain(version=str(raw.get("version", _WRITE_VERSION)))
    dom.intents = _names(raw.get("intents"), name, line("intents"), "intents")
    dom.entities = _names(raw.get("entities"), name, line("entities"), "entities")
    dom.actions = _names(raw.get("actions"), name, line("actions"), "actions")
    for key in ("slots", "responses", "forms", "session_config"):
        if raw.get(key) is not None and not isinstance(raw[key], dict):
            raise NluDataError(f"'{key}' must be a mapping", file=name, line=line(key))
    dom.slots = raw.get("slots") or {}
    dom.forms = raw.get("forms") or {}
    dom.session_config = raw.get("session_config") or {}
    for rname, variations in (raw.get("responses") or {}).items():
        if not isinstance(variations, list) or not variations:
            raise NluDataError(
                f"response {rname!r} needs a list of variations", file=name, line=line("responses")
            )
        for v in variations:
            if not isinstance(v, dict) or not any(
                k in v for k in ("text", "image", "buttons", "custom")
            ):
                raise NluDataError(
                    f"response {rname!r}: each variation needs a 'text'",
                    file=name,
                    line=line("responses"),
                )
        dom.responses[str(rname)] = variations
    return dom


def write_domain_yaml(domain: Domain) -> str:
    """Write a :class:`Domain` back as YAML (round-trips with :func:`read_domain_yaml`)."""
    out: dict[str, Any] = {"version": domain.version}
    for key in ("intents", "entities", "slots", "responses", "actions", "forms", "session_config"):
        value = getattr(domain, key)
        if value:
            out[key] = value
    return yaml.safe_dump(out, allow_unicode=True, sort_keys=False, width=10_000)


def read_stories_yaml(source: str | Path) -> list[Story]:
    """Read ``stories:`` and ``rules:`` blocks of a Rasa 3 stories/rules file."""
    text, name = _load(source)
    root = _compose(text, name)
    if root is None:
        return []
    top = _mapping(root, name, "the top level")
    _check_version(top, name)
    out: list[Story] = []
    for key, kind in (("stories", "story"), ("rules", "rule")):
        node = top.get(key)
        if node is None:
            continue
        if not isinstance(node, yaml.SequenceNode):
            raise NluDataError(f"'{key}' must be a list", file=name, line=node.start_mark.line + 1)
        for item in node.value:
            ln = item.start_mark.line + 1
            obj = _construct(item)
            if not isinstance(obj, dict) or kind not in obj:
                raise NluDataError(
                    f"each entry of '{key}' needs a '{kind}' name", file=name, line=ln
                )
            steps = obj.get("steps")
            if not isinstance(steps, list) or not all(isinstance(s, dict) for s in steps):
                raise NluDataError(
                    f"{kind} {obj[kind]!r}: 'steps' must be a list of mappings", file=name, line=ln
                )
            for s in steps:
                if not any(
                    k in s
                    for k in (
                        "intent",
                        "action",
                        "slot_was_set",
                        "active_loop",
                        "or",
                        "checkpoint",
                        "user",
                        "bot",
                    )
                ):
                    raise NluDataError(
                        f"{kind} {obj[kind]!r}: unknown step {s!r}", file=name, line=ln
                    )
            out.append(Story(str(obj[kind]), steps, kind, ln, obj.get("condition") or []))
    return out


def write_stories_yaml(stories: list[Story]) -> str:
    """Write stories and rules back as one Rasa 3 YAML document."""
    out: dict[str, Any] = {"version": _WRITE_VERSION}
    for kind, key in (("story", "stories"), ("rule", "rules")):
        items = []
        for s in stories:
            if s.kind != kind:
                continue
            item: dict[str, Any] = {kind: s.name}
            if s.conditions:
                item["condition"] = s.conditions
            item["steps"] = s.steps
            items.append(item)
        if items:
            out[key] = items
    return yaml.safe_dump(out, allow_unicode=True, sort_keys=False, width=10_000)
