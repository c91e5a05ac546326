"""The flow file format: pydantic models a YAML file is validated against before use.

A file holds ``version`` plus any of ``settings``, ``responses`` and ``flows``. Every flow is a
list of steps; each step does exactly one thing (say, ask for a slot, confirm, run an action,
branch, hand off, end, or start another flow). Without ``next`` a step goes on to the step
below it; ``next: end`` (or falling off the last step) finishes the flow. Step links are
checked in :mod:`bots.dialogue.loader`, so a dangling link is refused with its file, flow and
step rather than discovered by a customer mid-call.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SUPPORTED_VERSIONS = ("1",)
END = "end"  # a link to END finishes the flow


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Button(_Strict):
    title: dict[str, str]
    payload: str


class Response(_Strict):
    """One response: variations per language, optional voice-only text and chat buttons.

    ``sensitive`` marks text that reads account data: the engine never renders it for an
    unverified caller, whatever the flow says.
    """

    text: dict[str, list[str]]
    voice: dict[str, list[str]] = Field(default_factory=dict)
    buttons: tuple[Button, ...] = ()
    sensitive: bool = False
    # A knowledge article to answer from when the KB is available (``branch-hours`` reads
    # ``en-branch-hours`` / ``zh-branch-hours``); the texts above are the fallback.
    kb: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9._-]*$")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        # `utter_x: {en: "...", zh: [...]}` is the short form editors write most.
        if isinstance(data, dict) and "text" not in data:
            keys = {"voice", "buttons", "sensitive", "kb"}
            langs = {k: v for k, v in data.items() if k not in keys}
            data = {k: v for k, v in data.items() if k in keys}
            data["text"] = langs
        for key in ("text", "voice"):
            if isinstance(data, dict) and isinstance(data.get(key), dict):
                data[key] = {
                    lang: [v] if isinstance(v, str) else v for lang, v in data[key].items()
                }
        return data

    @field_validator("text")
    @classmethod
    def _non_empty(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        if not v or not all(v.values()):
            raise ValueError("a response needs at least one text per language")
        return v


class Condition(_Strict):
    """A branch condition; every given key must hold (AND)."""

    intent: str | list[str] | None = None
    entity: str | None = None
    slot: str | None = None
    equals: str | None = None
    one_of: list[str] | None = None
    present: bool | None = None
    emotion: str | list[str] | None = None
    emotion_min: float | None = Field(default=None, ge=0.0, le=1.0)  # confidence of that label
    verified: bool | None = None
    business_hours: bool | None = None
    channel: str | None = None


class Branch(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    when: Condition | None = Field(default=None, alias="if")
    goto: str


class Validation(_Strict):
    pattern: str | None = None
    one_of: list[str] | None = None
    min_length: int | None = None
    max_length: int | None = None
    past_date: bool = False


StepKind = Literal["say", "collect", "confirm", "action", "branch", "handoff", "end", "flow"]


class Step(_Strict):
    """One step. Exactly one of the kind keys is set; the rest refine it."""

    id: str
    say: str | None = None
    collect: str | None = None
    confirm: str | None = None
    action: str | None = None
    branch: tuple[Branch, ...] | None = None
    handoff: str | None = None
    end: str | None = None
    flow: str | None = None
    # collect / confirm
    ask: str | None = None
    entity: str | None = None
    from_text: bool = False
    validate_: Validation | None = Field(default=None, alias="validate")
    invalid: str | None = None
    max_attempts: int = Field(default=3, ge=1, le=10)
    on_fail: str | None = None
    always_ask: bool = False
    sensitive: bool = False  # a collected value that never goes into a handoff packet in clear
    # voice: the answer is spoken digits (card last 4, PIN, menu): recognise it with the
    # digits grammar (asr.digits) instead of free transcription
    grammar: Literal["digits"] | None = None
    yes: str | None = None
    no: str | None = None
    # action
    args: dict[str, Any] = Field(default_factory=dict)
    on: dict[str, str] = Field(default_factory=dict)
    # handoff
    queue: str | None = None
    skills: tuple[str, ...] = ()
    next: str | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        kinds = [
            k
            for k in ("say", "collect", "confirm", "action", "branch", "handoff", "end", "flow")
            if getattr(self, k) is not None
        ]
        if len(kinds) != 1:
            raise ValueError(
                f"step {self.id!r} must have exactly one of say/collect/confirm/action/branch/"
                f"handoff/end/flow, found {kinds or 'none'}"
            )
        if self.collect is not None and self.ask is None:
            raise ValueError(f"step {self.id!r} collects {self.collect!r} but has no `ask`")
        return self

    @property
    def kind(self) -> StepKind:
        for k in ("say", "collect", "confirm", "action", "branch", "handoff", "end", "flow"):
            if getattr(self, k) is not None:
                return k  # type: ignore[return-value]
        raise AssertionError("validated step without a kind")

    def links(self) -> list[tuple[str, str]]:
        """(field, target step) for every link this step makes, for the dangling-link check."""
        out = [(f, getattr(self, f)) for f in ("next", "on_fail", "yes", "no") if getattr(self, f)]
        out += [(f"on.{k}", v) for k, v in self.on.items()]
        out += [(f"branch[{i}].goto", b.goto) for i, b in enumerate(self.branch or ())]
        return out


class Trigger(_Strict):
    intents: tuple[str, ...] = ()
    min_confidence: float | None = None


class Flow(_Strict):
    description: str = ""
    trigger: Trigger = Trigger()
    requires_verification: bool = False
    digression: bool = False  # may interrupt another flow, which resumes afterwards
    resolves: bool = False  # finishing it counts as resolved by the bot
    escalate_on_emotion: bool = True  # False: the NLU's `escalate` does not hand off here
    steps: tuple[Step, ...]

    @field_validator("steps")
    @classmethod
    def _unique_ids(cls, steps: tuple[Step, ...]) -> tuple[Step, ...]:
        if not steps:
            raise ValueError("a flow needs at least one step")
        seen: set[str] = set()
        for s in steps:
            if s.id in seen:
                raise ValueError(f"step id {s.id!r} is used twice")
            seen.add(s.id)
        return steps


class BotSettings(_Strict):
    languages: tuple[str, ...] = ("en", "zh")
    default_language: str = "en"
    fallback_limit: int = Field(default=2, ge=1, le=10)
    escalate_after_turns: int = Field(default=2, ge=1, le=10)
    intent_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    max_message_chars: int = Field(default=1000, ge=20)
    verify_flow: str = "verify"
    default_queue: str = "default"
    business_hours: dict[str, str] = Field(
        default_factory=lambda: (
            {d: "08:00-20:00" for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": "09:00-13:00"}
        )
    )
    timezone: str = "UTC"


class FlowFile(_Strict):
    version: str
    settings: BotSettings | None = None
    responses: dict[str, Response] = Field(default_factory=dict)
    flows: dict[str, Flow] = Field(default_factory=dict)

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, v: Any) -> str:
        v = str(v)
        if v not in SUPPORTED_VERSIONS:
            raise ValueError(f"version {v!r} is not supported; use one of {SUPPORTED_VERSIONS}")
        return v
