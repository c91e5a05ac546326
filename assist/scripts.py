"""Next-best response scripts per intent and step, and de-escalation scripts.

Content lives in ``assist/scripts.yaml`` (EN + ZH) so supervisors can change wording without
code. A step counts as done when the agent says one of its ``done_when`` phrases (or a bot
reports the step), and the next-best response is the first step not yet done: the sidebar
follows the call instead of replaying a fixed list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from assist.compliance import contains_phrase
from assist.errors import AssistConfigInvalid
from assist.tokens import normalise

DEFAULT_SCRIPTS = Path(__file__).with_name("scripts.yaml")
DEFAULT_INTENT = "default"
DEESCALATION_KINDS = ("angry", "frustrated", "escalate")


def pick(texts: dict[str, str], language: str) -> str:
    """The text in the contact's language, falling back to English."""
    return texts.get(language) or texts.get("en") or next(iter(texts.values()), "")


@dataclass(frozen=True)
class Step:
    step: str
    say: dict[str, str]
    done_when: tuple[str, ...]
    action: dict[str, str]
    follow_up: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IntentScript:
    intent: str
    reason: dict[str, str]
    steps: tuple[Step, ...]
    article: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class ScriptBook:
    intents: dict[str, IntentScript]
    aliases: dict[str, str]
    deescalation: dict[str, tuple[dict[str, str], dict[str, str]]]
    outcomes: dict[str, dict[str, str]]

    def resolve(self, intent: str | None) -> str | None:
        """Our intent name for an NLU label (aliases cover e.g. BANKING77 labels)."""
        if not intent:
            return None
        if intent in self.intents:
            return intent
        return self.aliases.get(intent) or self.aliases.get(intent.lower())

    def script(self, intent: str | None) -> IntentScript:
        return self.intents.get(self.resolve(intent) or "", self.intents[DEFAULT_INTENT])

    def next_step(self, intent: str | None, done: set[str]) -> Step | None:
        """First step of the intent's script that has not been done yet (None when finished)."""
        return next((s for s in self.script(intent).steps if s.step not in done), None)

    def steps_said(self, intent: str | None, text: str) -> set[str]:
        """Steps of the intent that this agent utterance completes."""
        norm = normalise(text)
        return {
            s.step
            for s in self.script(intent).steps
            if any(contains_phrase(norm, p) for p in s.done_when)
        }


def _texts(raw: object, where: str) -> dict[str, str]:
    if not isinstance(raw, dict) or not raw:
        raise AssistConfigInvalid(f"{where}: expected text per language (en:, zh:)")
    return {str(k): v for k, v in raw.items() if v is not None}


def _intent(name: str, raw: object, where: str) -> IntentScript:
    if not isinstance(raw, dict) or not isinstance(raw.get("steps"), list) or not raw["steps"]:
        raise AssistConfigInvalid(f"{where}: needs a non-empty steps list")
    steps = []
    for i, s in enumerate(raw["steps"]):
        sw = f"{where}.steps[{i}]"
        if not isinstance(s, dict) or not isinstance(s.get("step"), str):
            raise AssistConfigInvalid(f"{sw}: needs a step name")
        done = s.get("done_when") or {}
        if not isinstance(done, dict):
            raise AssistConfigInvalid(f"{sw}.done_when: expected phrases per language")
        steps.append(
            Step(
                step=s["step"],
                say=_texts(s.get("say"), f"{sw}.say"),
                done_when=tuple(normalise(p) for ps in done.values() for p in ps or ()),
                action=_texts(s.get("action"), f"{sw}.action"),
                follow_up=_texts(s["follow_up"], f"{sw}.follow_up") if s.get("follow_up") else {},
            )
        )
    return IntentScript(name, _texts(raw.get("reason"), f"{where}.reason"), tuple(steps),
                        dict(raw.get("article") or {}))  # fmt: skip


def load_scripts(path: Path = DEFAULT_SCRIPTS) -> ScriptBook:
    """Read and validate the scripts file; errors name the file and the item."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise AssistConfigInvalid(f"{path}: {e}".splitlines()[0]) from e
    if not isinstance(data, dict) or data.get("version") != 1:
        raise AssistConfigInvalid(f"{path}: expected a mapping with version: 1")
    intents: dict[str, IntentScript] = {}
    aliases: dict[str, str] = {}
    for name, raw in (data.get("intents") or {}).items():
        intents[name] = _intent(name, raw, f"{path.name}: intents.{name}")
        for alias in raw.get("aliases") or ():
            aliases[str(alias)] = name
            aliases[str(alias).lower()] = name
    intents[DEFAULT_INTENT] = _intent(DEFAULT_INTENT, data.get("default"), f"{path.name}: default")
    deesc = {}
    for kind in DEESCALATION_KINDS:
        raw = (data.get("deescalation") or {}).get(kind)
        if not isinstance(raw, dict):
            raise AssistConfigInvalid(f"{path.name}: deescalation.{kind} is missing")
        where = f"{path.name}: deescalation.{kind}"
        deesc[kind] = (_texts(raw.get("title"), f"{where}.title"), _texts(raw.get("say"), where))
    outcomes = {
        k: _texts(v, f"{path.name}: outcomes.{k}") for k, v in (data.get("outcomes") or {}).items()
    }
    if "open" not in outcomes:
        raise AssistConfigInvalid(f"{path.name}: outcomes.open is missing")
    return ScriptBook(intents, aliases, deesc, outcomes)
