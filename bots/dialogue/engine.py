"""The dialogue engine: runs YAML flows over a tracker, one customer turn at a time.

Per turn, in priority order: negative emotion with ``escalate`` → handoff; the control
intents (talk to a person, repeat that, go back); the answer to the step that is waiting
(slot filled and validated, or a confirmation); a digression into another flow (the
interrupted flow resumes afterwards); a new flow; otherwise a fallback, and after
``fallback_limit`` misunderstandings in a row a handoff. Flows that read account data
(``requires_verification``) run the verify flow first, and a response marked ``sensitive`` is
never rendered for an unverified caller, whatever the YAML says.

The engine does no I/O of its own besides actions (CRM, webhooks): trackers, the bus and the
handoff queue belong to :mod:`bots.dialogue.service`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import structlog

from bots.actions import BUILTIN_ACTIONS, Action, ActionContext, ActionResult, RasaActionClient
from bots.crm import CrmAdapter
from bots.dialogue.errors import ActionError, NotVerifiedError
from bots.dialogue.loader import FlowBook, FlowLibrary
from bots.dialogue.render import Reply, render, render_text
from bots.dialogue.schema import END, Condition, Step
from bots.dialogue.tracker import Frame, Tracker
from bots.dialogue.understanding import Understanding
from bots.handoff import BusinessHours
from bots.knowledge import KnowledgeSource
from core.clock import Clock

log = structlog.get_logger("hotline.bots.engine")

CONTROL_REPEAT = "repeat"
CONTROL_BACK = "go_back"
CONTROL_HUMAN = "talk_to_human"
ANSWER_INTENTS = frozenset({"affirm", "deny"})
FREE_TEXT_CONTROL_CONFIDENCE = 0.85  # free-text answers only yield to very sure intents
MAX_STEPS_PER_TURN = 60  # a cycle in a flow must not hang the turn


@dataclass
class HandoffIntent:
    reason: str
    queue: str | None = None
    skills: tuple[str, ...] = ()


@dataclass
class TurnResult:
    replies: list[Reply] = field(default_factory=list)
    handoff: HandoffIntent | None = None
    ended: bool = False
    repeated: bool = False
    redact: bool = False
    flow: str | None = None
    step: str | None = None


class DialogueEngine:
    """Stateless over trackers: the same engine serves every conversation and channel."""

    def __init__(
        self,
        *,
        library: FlowLibrary,
        crm: CrmAdapter,
        clock: Clock,
        action_client: RasaActionClient | None = None,
        actions: dict[str, Action] | None = None,
        knowledge: KnowledgeSource | None = None,
    ):
        self.library = library
        self.crm = crm
        self.clock = clock
        self.action_client = action_client
        self.actions = dict(BUILTIN_ACTIONS if actions is None else actions)
        self.knowledge = knowledge  # answers for responses that name a KB article

    @property
    def book(self) -> FlowBook:
        return self.library.book

    def sensitive_slots(self) -> frozenset[str]:
        return frozenset(
            s.collect
            for f in self.book.flows.values()
            for s in f.steps
            if s.collect and s.sensitive
        ) | {"balances"}

    def business_hours(self) -> BusinessHours:
        st = self.book.settings
        return BusinessHours(st.business_hours, st.timezone)

    # --- rendering --------------------------------------------------------------------
    def say(self, t: Tracker, out: TurnResult, name: str) -> None:
        book = self.book
        resp = book.responses.get(name)
        if resp is None:
            log.warning("bots.response.missing", response=name)
            return
        if resp.sensitive and not t.verified:
            # The last line of defence: flows should never get here unverified.
            log.warning("bots.sensitive.blocked", response=name, contact_id=t.contact_id)
            t.log("blocked", response=name)
            name = "utter_not_verified"
            resp = book.responses.get(name)
            if resp is None:
                return
        reply = render(
            name,
            resp,
            language=t.language,
            default_language=book.settings.default_language,
            channel=t.channel,
            slots=t.slots,
            seed=f"{t.contact_id}:{t.turn}:{len(out.replies)}",
        )
        out.replies.append(reply)

    def say_text(self, out: TurnResult, text: str) -> None:
        out.replies.append(Reply(text=text))

    async def say_step(self, t: Tracker, out: TurnResult, name: str) -> None:
        """A flow's ``say`` step: from the knowledge article when the response names one and
        the KB has it in the customer's language, else the response's own text."""
        resp = self.book.responses.get(name)
        if resp is not None and resp.kb and self.knowledge is not None and not resp.sensitive:
            question = str(t.latest_message.get("text") or "")
            try:
                ans = await self.knowledge.answer(resp.kb, question=question, language=t.language)
            except Exception as e:  # the KB failing must not fail the turn
                log.warning("bots.kb.failed", response=name, error=str(e))
                ans = None
            if ans is not None:
                t.log("kb_answer", response=name, article=ans.article_id, version=ans.version)
                source = {"kb_article": ans.article_id, "kb_version": ans.version}
                out.replies.append(render_text(name, ans.text, channel=t.channel, extra=source))
                return
        self.say(t, out, name)

    # --- the turn ---------------------------------------------------------------------
    async def handle(self, t: Tracker, u: Understanding) -> TurnResult:
        """One customer turn → the bot's replies (and maybe a handoff or the end)."""
        book = self.book
        out = TurnResult()
        threshold = book.settings.intent_threshold
        intent = u.intent if u.confidence >= threshold else "out_of_scope"
        t.latest_message = {
            "text": u.text,
            "intent": {"name": u.intent, "confidence": u.confidence},
            "entities": [dict(e) for e in u.entities],
        }
        t.log("user", text=u.text, intent=u.intent, confidence=round(u.confidence, 3))
        if intent != "out_of_scope":
            t.intents.append(intent)
        if u.emotion:
            label = str(u.emotion.get("label", "neutral"))
            t.emotions.append(label)
            t.latest_message["emotion"] = {
                "label": label,
                "confidence": float(u.emotion.get("confidence", 0.0)),
                "escalate": bool(u.emotion.get("escalate")),
            }
            # One tense sentence ("no thanks, that's all") is not a reason to leave the bot:
            # escalate when the NLU flags it on `escalate_after_turns` turns in a row.
            # A flow built to hear bad news (complaint intake) handles emotion in its own steps.
            active = book.flows.get(t.active.flow) if t.active else None
            counts = active is None or active.escalate_on_emotion
            t.escalations = t.escalations + 1 if counts and u.emotion.get("escalate") else 0
            if t.escalations >= book.settings.escalate_after_turns:
                await self._handoff(t, out, "negative_emotion")
                return self._finish(t, out)

        frame = t.active
        step = book.step(frame.flow, frame.step) if frame and frame.waiting else None
        free_text = step is not None and step.kind == "collect" and step.from_text
        control_ok = not free_text or u.confidence >= FREE_TEXT_CONTROL_CONFIDENCE
        if control_ok and intent == CONTROL_HUMAN:
            await self._handoff(t, out, "customer_request")
            return self._finish(t, out)
        if control_ok and intent == CONTROL_REPEAT and t.last_replies:
            out.replies = [Reply(**r) for r in t.last_replies]
            out.repeated = True
            return self._finish(t, out)
        if control_ok and intent == CONTROL_BACK and frame is not None:
            await self._go_back(t, out)
            return self._finish(t, out)

        if frame is not None and step is not None:
            if await self._answer(t, out, frame, step, u, intent):
                t.fallbacks = 0
                await self.run(t, out)
                return self._finish(t, out)
            target = self._trigger(t, u, intent, free_text, answering=True)
            if target is not None:
                t.fallbacks = 0
                frame.interrupted = True
                frame.waiting = False
                self.start_flow(t, target, u)
                await self.run(t, out)
                return self._finish(t, out)
            await self._invalid(t, out, frame, step)
            return self._finish(t, out)

        target = self._trigger(t, u, intent, False, answering=False)
        if target is not None:
            t.fallbacks = 0
            self.start_flow(t, target, u)
            await self.run(t, out)
            return self._finish(t, out)
        await self._fallback(t, out)
        return self._finish(t, out)

    def _finish(self, t: Tracker, out: TurnResult) -> TurnResult:
        if out.redact:
            self._redact_last_user_turn(t)
        if not out.repeated and out.replies:
            t.last_replies = [
                {"text": r.text, "response": r.response, "buttons": r.buttons, "ssml": r.ssml}
                for r in out.replies
            ]
        for r in out.replies:
            t.log("bot", text=r.text, response=r.response)
        if t.active:
            out.flow, out.step = t.active.flow, t.active.step
        return out

    def _trigger(
        self, t: Tracker, u: Understanding, intent: str, free_text: bool, *, answering: bool
    ) -> str | None:
        if intent == "out_of_scope" or (answering and intent in ANSWER_INTENTS):
            return None
        flow_name = self.book.flow_for_intent(intent)
        if flow_name is None:
            return None
        flow = self.book.flows[flow_name]
        need = flow.trigger.min_confidence or self.book.settings.intent_threshold
        if free_text:
            need = max(need, FREE_TEXT_CONTROL_CONFIDENCE)
        if u.confidence < need:
            return None
        if any(f.flow == flow_name for f in t.stack):
            return None  # already doing it: the text is an answer, not a new request
        return flow_name

    # --- answers, validation ------------------------------------------------------------
    async def _answer(
        self, t: Tracker, out: TurnResult, frame: Frame, step: Step, u: Understanding, intent: str
    ) -> bool:
        if step.kind == "confirm":
            if intent == "affirm":
                target = step.yes or step.next
            elif intent == "deny":
                target = step.no or step.next
            else:
                return False
            frame.history.append(step.id)
            frame.waiting, frame.attempts = False, 0
            self._advance(t, frame, target)
            return True
        value = self._extract(step, u, intent)
        if value is None or not self._valid(step, value):
            return False
        t.set_slot(step.collect or "", value)
        if step.sensitive:
            out.redact = True  # at the end of the turn: actions of this turn may read the text
        frame.history.append(step.id)
        frame.waiting, frame.attempts = False, 0
        self._advance(t, frame, step.next)
        return True

    @staticmethod
    def _redact_last_user_turn(t: Tracker) -> None:
        """A verification answer (DOB, last 4) is not kept in the tracker's text or entities."""
        t.latest_message = {**t.latest_message, "text": "***", "entities": []}
        for ev in reversed(t.events):
            if ev.get("event") == "user":
                ev["text"] = "***"
                break

    def _extract(self, step: Step, u: Understanding, intent: str) -> str | None:
        if u.from_payload and step.entity is None and not step.from_text:
            return None
        if step.entity:
            value = u.entity(step.entity)
            if value is not None:
                return value
        v = step.validate_
        if v is not None and v.pattern:
            m = re.search(v.pattern, u.text)
            if m:
                return m.group(1) if m.groups() else m.group(0)
        if v is not None and v.one_of:
            low = u.text.strip().lower()
            for opt in v.one_of:
                if opt.lower() == low or (u.from_payload and u.intent == opt):
                    return opt
        if step.from_text and u.text.strip() and not u.from_payload:
            return u.text.strip()
        return None

    def _valid(self, step: Step, value: str) -> bool:
        v = step.validate_
        if v is None:
            return True
        if v.pattern and not re.search(v.pattern, value):
            return False
        if v.one_of and value not in v.one_of:
            return False
        if v.min_length is not None and len(value) < v.min_length:
            return False
        if v.max_length is not None and len(value) > v.max_length:
            return False
        if v.past_date:
            try:
                d = date.fromisoformat(value)
            except ValueError:
                return False
            if not (date(1900, 1, 1) <= d < self.clock.now().date()):
                return False
        return True

    async def _invalid(self, t: Tracker, out: TurnResult, frame: Frame, step: Step) -> None:
        frame.attempts += 1
        t.log("invalid", flow=frame.flow, step=step.id, attempts=frame.attempts)
        if frame.attempts >= step.max_attempts:
            frame.waiting, frame.attempts = False, 0
            if step.on_fail:
                self._advance(t, frame, step.on_fail)
                await self.run(t, out)
            else:
                await self._handoff(t, out, "repeated_fallback")
            return
        self.say(t, out, step.invalid or "utter_fallback")
        self.say(t, out, step.ask or step.confirm or "utter_fallback")

    async def _fallback(self, t: Tracker, out: TurnResult) -> None:
        t.fallbacks += 1
        t.log("fallback", count=t.fallbacks)
        if t.fallbacks >= self.book.settings.fallback_limit:
            await self._handoff(t, out, "repeated_fallback")
            return
        self.say(t, out, "utter_fallback")

    async def _go_back(self, t: Tracker, out: TurnResult) -> None:
        frame = t.active
        assert frame is not None
        if not frame.history:
            self.say(t, out, "utter_cannot_go_back")
            frame.waiting = False
            await self.run(t, out)
            return
        prev = frame.history.pop()
        step = self.book.step(frame.flow, prev)
        if step.collect:
            t.set_slot(step.collect, None)
        frame.step, frame.waiting, frame.attempts = prev, False, 0
        self.say(t, out, "utter_going_back")
        await self.run(t, out)

    # --- running steps ------------------------------------------------------------------
    def start_flow(self, t: Tracker, name: str, u: Understanding | None = None) -> None:
        """Push ``name`` (and the verify flow above it if needed); slots it collects start
        empty, except what the triggering message already said ("I lost my card ending 4321").
        """
        book = self.book
        self._prefill(t, name, u)
        t.stack.append(Frame(flow=name, step=book.first_step(name)))
        t.log("flow_started", flow=name)
        flow = book.flows[name]
        verify = book.settings.verify_flow
        if flow.requires_verification and not t.verified and verify in book.flows:
            self._prefill(t, verify, u)
            t.stack.append(Frame(flow=verify, step=book.first_step(verify)))
            t.log("flow_started", flow=verify)

    def _prefill(self, t: Tracker, name: str, u: Understanding | None) -> None:
        for s in self.book.flows[name].steps:
            if not s.collect:
                continue
            if s.collect in t.slots:
                t.set_slot(s.collect, None)
            if s.entity and u is not None and not u.from_payload:
                value = u.entity(s.entity)
                if value is not None and self._valid(s, value):
                    t.set_slot(s.collect, value)

    def _advance(self, t: Tracker, frame: Frame, target: str | None) -> None:
        """Go to ``target``; no target means the next step in the file, END ends the flow."""
        if target is None:
            target = self.book.following(frame.flow, frame.step)
        if target is None or target == END:
            self._pop(t, frame, completed=True)
        else:
            frame.step = target

    def _pop(self, t: Tracker, frame: Frame, *, completed: bool) -> None:
        if frame in t.stack:
            t.stack.remove(frame)
        if completed:
            t.flows_done.append(frame.flow)
            if self.book.flows[frame.flow].resolves:
                t.resolved = True
        t.log("flow_ended", flow=frame.flow, completed=completed)

    async def run(self, t: Tracker, out: TurnResult) -> None:
        """Execute steps until one waits for the customer, the stack empties or a handoff."""
        book = self.book
        for _ in range(MAX_STEPS_PER_TURN):
            frame = t.active
            if frame is None or frame.waiting or t.status != "bot":
                return
            if frame.interrupted:
                frame.interrupted = False
                self.say(t, out, "utter_resume")
            flow = book.flows[frame.flow]
            if flow.requires_verification and not t.verified:
                self._pop(t, frame, completed=False)
                self.say(t, out, "utter_not_verified")
                continue
            step = book.step(frame.flow, frame.step)
            kind = step.kind
            if kind == "say":
                await self.say_step(t, out, step.say or "")
                self._advance(t, frame, step.next)
            elif kind == "collect":
                if step.collect in t.slots and not step.always_ask:
                    self._advance(t, frame, step.next)
                    continue
                self.say(t, out, step.ask or "")
                frame.waiting = True
                return
            elif kind == "confirm":
                self.say(t, out, step.confirm or "")
                frame.waiting = True
                return
            elif kind == "action":
                result = await self._action(t, out, step)
                self._advance(t, frame, step.on.get(result.result, step.next))
            elif kind == "branch":
                target = step.next
                for b in step.branch or ():
                    if b.when is None or self._holds(t, b.when):
                        target = b.goto
                        break
                self._advance(t, frame, target)
            elif kind == "handoff":
                await self._handoff(
                    t, out, step.handoff or "flow_rule", queue=step.queue, skills=step.skills
                )
                return
            elif kind == "end":
                self._end(t, out, frame, step.end or "flow")
                if out.ended:
                    return
            elif kind == "flow":
                self._advance(t, frame, step.next)
                self.start_flow(t, step.flow or "")
        log.error("bots.flow.loop", contact_id=t.contact_id, flow=t.active and t.active.flow)
        t.stack.clear()
        await self._handoff(t, out, "flow_error")

    def _end(self, t: Tracker, out: TurnResult, frame: Frame, what: str) -> None:
        if what == "conversation":
            t.stack.clear()
            t.flows_done.append(frame.flow)
            out.ended = True
            return
        if what == "resolved":
            t.resolved = True
        self._pop(t, frame, completed=True)

    async def _action(self, t: Tracker, out: TurnResult, step: Step) -> ActionResult:
        name = step.action or ""
        t.log("action", name=name)
        try:
            builtin = self.actions.get(name)
            if builtin is not None:
                result = await builtin(ActionContext(tracker=t, crm=self.crm, args=step.args))
            elif self.action_client is not None:
                result = await self.action_client.run(name, t, responses=list(self.book.responses))
            else:
                raise ActionError(f"action {name!r} is not built in and no action server is set")
        except NotVerifiedError:
            t.log("blocked", action=name)
            return ActionResult("not_verified")
        except ActionError as e:
            log.warning("bots.action.failed", action=name, error=e.message)
            return ActionResult("error")
        for k, v in result.slots.items():
            t.set_slot(k, v)
        for text in result.texts:
            self.say_text(out, text)
        for resp in result.responses:
            self.say(t, out, resp)
        return result

    def _holds(self, t: Tracker, c: Condition) -> bool:
        last = t.latest_message
        if c.intent is not None:
            names = [c.intent] if isinstance(c.intent, str) else c.intent
            if (last.get("intent") or {}).get("name") not in names:
                return False
        if c.entity is not None and not any(
            e.get("entity") == c.entity for e in last.get("entities", [])
        ):
            return False
        if c.slot is not None:
            value = t.slots.get(c.slot)
            if c.present is not None and (value is not None) != c.present:
                return False
            if c.equals is not None and value != c.equals:
                return False
            if c.one_of is not None and value not in c.one_of:
                return False
        if c.emotion is not None:
            names = [c.emotion] if isinstance(c.emotion, str) else c.emotion
            emo = last.get("emotion") or {}
            if emo.get("label") not in names:
                return False
            if c.emotion_min is not None and float(emo.get("confidence", 0.0)) < c.emotion_min:
                return False
        if c.verified is not None and t.verified != c.verified:
            return False
        if (
            c.business_hours is not None
            and self.business_hours().is_open(self.clock.now()) != c.business_hours
        ):
            return False
        return c.channel is None or c.channel == t.channel

    # --- handoff ------------------------------------------------------------------------
    async def _handoff(
        self,
        t: Tracker,
        out: TurnResult,
        reason: str,
        *,
        queue: str | None = None,
        skills: tuple[str, ...] = (),
    ) -> None:
        """Hand off now if agents are working; otherwise offer a callback (if a flow exists)."""
        book = self.book
        if not self.business_hours().is_open(self.clock.now()) and "callback" in book.flows:
            t.stack.clear()
            t.handoff_reason = f"{reason}:after_hours"
            self.say(t, out, "utter_closed")
            self.start_flow(t, "callback")
            await self.run(t, out)
            return
        t.stack.clear()
        t.status = "handed_off"
        t.handoff_reason = reason
        t.log("handoff", reason=reason)
        out.handoff = HandoffIntent(reason=reason, queue=queue, skills=skills)
