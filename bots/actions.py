"""Actions a flow step runs: built-ins on the CRM adapter, and Rasa action-server webhooks.

A built-in is an async function ``(ctx) -> ActionResult``; its ``result`` string picks the
step's ``on:`` branch (``verified``/``failed``, ``blocked``/``not_found``…). Any other action
name goes to the configured action server with the Rasa protocol (POST ``{next_action,
sender_id, tracker, domain, version}`` → ``{events, responses}``), so existing Rasa custom
actions keep working. Account data is read only through ``_require_verified``: an unverified
caller gets ``NotVerifiedError`` from the action itself, not just from the flow's wording.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bots.crm import CrmAdapter, normalise_phone
from bots.dialogue.errors import ActionError, NotVerifiedError
from bots.dialogue.tracker import Tracker


@dataclass
class ActionContext:
    tracker: Tracker
    crm: CrmAdapter
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class ActionResult:
    result: str = "ok"
    slots: dict[str, str | None] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)  # literal texts (from webhook actions)
    responses: list[str] = field(default_factory=list)  # response names to utter


Action = Callable[[ActionContext], Awaitable[ActionResult]]

KIND_NAMES = {
    "en": {
        "checking": "checking account",
        "savings": "savings account",
        "credit": "credit account",
    },
    "zh": {"checking": "活期账户", "savings": "储蓄账户", "credit": "信用账户"},
}
CURRENCY_ZH = {"CNY": "元", "USD": "美元"}


def _require_verified(t: Tracker) -> str:
    if not t.verified or not t.customer_id:
        raise NotVerifiedError("account data requested before the caller was verified")
    return t.customer_id


def format_money(cents: int, currency: str, language: str) -> str:
    amount = f"{cents / 100:,.2f}"
    if language == "zh":
        return f"{amount}{CURRENCY_ZH.get(currency, currency)}"
    return f"{amount} {currency}"


async def identify_customer(ctx: ActionContext) -> ActionResult:
    t = ctx.tracker
    given = t.slots.get("identifier")
    if given:
        digits = "".join(c for c in given if c.isdigit())
        customer = await ctx.crm.find_customer(account_number=digits) if digits else None
        if customer is None:
            customer = await ctx.crm.find_customer(phone=given)
    else:  # the caller's own number (ANI / channel metadata), when the channel gave one
        phone = t.metadata.get("phone")
        customer = await ctx.crm.find_customer(phone=phone) if phone else None
    if customer is None:
        return ActionResult("not_found")
    t.customer_id = customer.id
    return ActionResult("found")


_NUMERIC_DATE = re.compile(r"\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b")


def _swapped_day_month(iso: str | None, said: str) -> str | None:
    """For "03/12/1985" the NLU has to guess month-first; the customer may mean day-first.

    Only for an all-numeric date where both readings are valid; one extra comparison, never
    a guess across fields.
    """
    if not iso or not _NUMERIC_DATE.search(said):
        return None
    y, m, d = iso.split("-")
    if int(d) > 12 or m == d:
        return None
    return f"{y}-{d}-{m}"


async def verify_customer(ctx: ActionContext) -> ActionResult:
    t = ctx.tracker
    if not t.customer_id:
        return ActionResult("failed")
    dob = t.slots.get("dob")
    ok = await ctx.crm.verify(t.customer_id, dob=dob, last4=t.slots.get("verify_last4"))
    swapped = _swapped_day_month(dob, str(t.latest_message.get("text", "")))
    if not ok and swapped:
        ok = await ctx.crm.verify(t.customer_id, dob=swapped)
    t.verified = ok
    t.log("verification", ok=ok)
    # The secrets used to verify are not needed again: drop them from the tracker.
    return ActionResult("verified" if ok else "failed", slots={"dob": None, "verify_last4": None})


async def lookup_balances(ctx: ActionContext) -> ActionResult:
    cid = _require_verified(ctx.tracker)
    lang = ctx.tracker.language
    accounts = await ctx.crm.accounts(cid)
    if not accounts:
        return ActionResult("none")
    names = KIND_NAMES.get(lang, KIND_NAMES["en"])
    if lang == "zh":
        parts = [
            f"尾号{a.number[-4:]}的{names.get(a.kind, a.kind)}余额为"
            f"{format_money(a.balance_cents, a.currency, lang)}"
            for a in accounts
        ]
        text = "；".join(parts)
    else:
        parts = [
            f"your {names.get(a.kind, a.kind)} ending {a.number[-4:]} has "
            f"{format_money(a.balance_cents, a.currency, lang)}"
            for a in accounts
        ]
        text = "; ".join(parts)
    return ActionResult("ok", slots={"balances": text})


async def block_card(ctx: ActionContext) -> ActionResult:
    cid = _require_verified(ctx.tracker)
    last4 = ctx.tracker.slots.get("card_last4")
    card = await ctx.crm.block_card(cid, last4=last4)
    if card is None:
        return ActionResult("not_found" if last4 else "ambiguous")
    return ActionResult("blocked", slots={"blocked_last4": card.last4})


async def create_follow_up(ctx: ActionContext) -> ActionResult:
    t = ctx.tracker
    kind = str(ctx.args.get("kind", "follow_up"))
    fields = ctx.args.get("fields", [])
    details = {f: t.slots.get(f, "") for f in fields}
    ref = await ctx.crm.create_follow_up(
        customer_id=t.customer_id, contact_id=t.contact_id, kind=kind, details=details
    )
    return ActionResult("created", slots={"reference": ref})


async def update_address(ctx: ActionContext) -> ActionResult:
    cid = _require_verified(ctx.tracker)
    address = ctx.tracker.slots.get("new_address", "")
    await ctx.crm.update_address(cid, address)
    ref = await ctx.crm.create_follow_up(
        customer_id=cid,
        contact_id=ctx.tracker.contact_id,
        kind="address_change",
        details={"address": address},
    )
    return ActionResult("updated", slots={"reference": ref})


async def set_slot(ctx: ActionContext) -> ActionResult:
    return ActionResult(
        "ok", slots={str(k): None if v is None else str(v) for k, v in ctx.args.items()}
    )


async def normalise_phone_slot(ctx: ActionContext) -> ActionResult:
    raw = ctx.tracker.slots.get("phone", "")
    region = "CN" if ctx.tracker.language == "zh" else "US"
    num = normalise_phone(raw, region=region)
    return ActionResult("ok" if num else "invalid", slots={"phone": num})


BUILTIN_ACTIONS: dict[str, Action] = {
    "identify_customer": identify_customer,
    "verify_customer": verify_customer,
    "lookup_balances": lookup_balances,
    "block_card": block_card,
    "create_follow_up": create_follow_up,
    "update_address": update_address,
    "set_slot": set_slot,
    "normalise_phone": normalise_phone_slot,
}


class RasaActionClient:
    """Calls custom actions on a Rasa-compatible action server (``/webhook``)."""

    def __init__(
        self, url: str, *, timeout_s: float = 5.0, transport: httpx.AsyncBaseTransport | None = None
    ):
        self.url = url
        self.client = httpx.AsyncClient(timeout=timeout_s, transport=transport)

    async def run(self, name: str, tracker: Tracker, *, responses: list[str]) -> ActionResult:
        payload = {
            "next_action": name,
            "sender_id": tracker.sender_id,
            "version": "3.6.0",
            "tracker": {
                "sender_id": tracker.sender_id,
                "slots": dict(tracker.slots),
                "latest_message": tracker.latest_message,
                "latest_action_name": name,
                "active_loop": {},
                "events": [],
                "paused": False,
                "followup_action": None,
                "latest_input_channel": tracker.channel,
            },
            "domain": {"responses": {r: [] for r in responses}, "slots": {}, "intents": []},
        }
        try:
            r = await self.client.post(self.url, json=payload)
            r.raise_for_status()
            body = r.json()
        except (httpx.HTTPError, ValueError) as e:
            raise ActionError(f"action server {self.url} failed on {name!r}: {e}") from e
        out = ActionResult("ok")
        for ev in body.get("events") or []:
            if ev.get("event") == "slot" and isinstance(ev.get("name"), str):
                value = ev.get("value")
                out.slots[ev["name"]] = None if value is None else str(value)
        for resp in body.get("responses") or []:
            if resp.get("text"):
                out.texts.append(str(resp["text"]))
            elif resp.get("response") or resp.get("template"):
                out.responses.append(str(resp.get("response") or resp.get("template")))
        if isinstance(out.slots.get("action_result"), str):
            out.result = str(out.slots.pop("action_result"))
        return out

    async def close(self) -> None:
        await self.client.aclose()
