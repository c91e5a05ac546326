"""Asterisk ARI dialer: originate with ``POST /ari/channels``, outcomes from ``/ari/events``.

Built from Asterisk's published ARI (Asterisk 16+ ``channels.json`` / ``events.json``):
the call is originated straight into our Stasis application, so *answer* shows up as a
``StasisStart`` for the channel and every failure as ``ChannelDestroyed`` with a Q.850
cause (17 busy, 19/18 no answer, 1/28 invalid number …). The attempt id is used as the
``channelId``: Asterisk refuses a second channel with the same id, so a retried HTTP request
can never ring the callee twice.

Media: with ``media_host`` set, an answered channel is bridged to an ARI *external media*
channel in AudioSocket encapsulation (``POST /ari/channels/externalMedia``, a mixing bridge,
``addChannel``): Asterisk connects to our AudioSocket server with the call id as the UUID,
and the campaign's media hub (``media_hub``, told with ``expect``) takes that stream, so the
script talks on real phone calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from typing import Any

import aiohttp
import structlog

from bots.campaigns.errors import DialerError
from bots.dialer.base import FINAL_STATUSES, CallStatus, CallUpdate, DialRequest, UpdateHandler

log = structlog.get_logger("hotline.dialer.ari")

# Q.850 cause codes → our outcome (anything else that is not "normal clearing" is a failure).
_CAUSES: dict[int, CallStatus] = {
    1: CallStatus.INVALID,
    3: CallStatus.INVALID,
    28: CallStatus.INVALID,
    17: CallStatus.BUSY,
    18: CallStatus.NO_ANSWER,
    19: CallStatus.NO_ANSWER,
    21: CallStatus.BUSY,
    16: CallStatus.COMPLETED,
}


def status_for_cause(cause: int, *, answered: bool) -> CallStatus:
    if answered:
        return CallStatus.COMPLETED
    if cause == 16:  # normal clearing before answer: the far end never picked up
        return CallStatus.NO_ANSWER
    return _CAUSES.get(cause, CallStatus.FAILED)


class AriDialer:
    """Dialer over one ARI application (``app``) on one Asterisk."""

    name = "asterisk_ari"

    def __init__(
        self,
        *,
        base_url: str,
        username: str,
        password: str,
        app: str = "hotline",
        endpoint_template: str = "PJSIP/{number}@trunk",
        session: aiohttp.ClientSession | None = None,
        media_host: str | None = None,
        media_format: str = "slin16",
        media_hub: Any | None = None,
    ) -> None:
        self.media_host = media_host
        self.media_format = media_format
        self.media_hub = media_hub
        self._media: dict[str, str] = {}  # callee channel -> its external media channel
        self.base_url = base_url.rstrip("/")
        self.app = app
        self.endpoint_template = endpoint_template
        self._auth = aiohttp.BasicAuth(username, password)
        self._api_key = f"{username}:{password}"
        self._session = session
        self._own_session = session is None
        self._handler: UpdateHandler | None = None
        self._answered: set[str] = set()
        self._reader: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()

    def set_handler(self, handler: UpdateHandler) -> None:
        self._handler = handler

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def start(self) -> None:
        """Open the events websocket (and keep it open, reconnecting) before dialing."""
        if self._reader is None:
            self._reader = asyncio.create_task(self._read_events(), name="ari-events")
        async with asyncio.timeout(10):
            await self._connected.wait()

    async def originate(self, request: DialRequest) -> str:
        params = {
            "endpoint": self.endpoint_template.format(number=request.to),
            "app": self.app,
            "appArgs": f"campaign,{request.campaign_id},{request.contact_id}",
            "callerId": request.caller_id,
            "timeout": str(request.ring_timeout_s),
            "channelId": request.attempt_id,
        }
        body = {"variables": {f"HOTLINE_{k.upper()}": str(v) for k, v in request.variables.items()}}
        try:
            async with self._http().post(
                f"{self.base_url}/ari/channels", params=params, json=body, auth=self._auth
            ) as r:
                text = await r.text()
                if r.status >= 400:
                    raise DialerError(
                        f"ARI originate to {request.to} refused: HTTP {r.status} {text[:200]}",
                        recoverable=r.status >= 500 or r.status == 409,
                    )
                cid = str(json.loads(text)["id"])
                if self.media_hub is not None and self.media_host:
                    self.media_hub.expect(cid)
                return cid
        except (aiohttp.ClientError, TimeoutError, KeyError, ValueError) as e:
            raise DialerError(f"ARI originate to {request.to} failed: {e!r}") from e

    async def hangup(self, call_id: str) -> None:
        try:
            async with self._http().delete(
                f"{self.base_url}/ari/channels/{call_id}",
                params={"reason": "normal"},
                auth=self._auth,
            ) as r:
                if r.status >= 400 and r.status != 404:  # 404: already gone
                    raise DialerError(f"ARI hangup {call_id}: HTTP {r.status}")
        except aiohttp.ClientError as e:
            raise DialerError(f"ARI hangup {call_id} failed: {e!r}") from e

    async def _read_events(self) -> None:
        ws_url = self.base_url.replace("http", "ws", 1) + "/ari/events"
        backoff = 0.5
        while True:
            try:
                async with self._http().ws_connect(
                    ws_url, params={"app": self.app, "api_key": self._api_key}, heartbeat=20
                ) as ws:
                    self._connected.set()
                    backoff = 0.5
                    async for msg in ws:
                        if msg.type == aiohttp.WSMsgType.TEXT:
                            await self._on_event(json.loads(msg.data))
            except asyncio.CancelledError:
                raise
            except (aiohttp.ClientError, OSError, ValueError) as e:
                log.warning("ari.events_disconnected", error=repr(e))
            self._connected.clear()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)

    async def _on_event(self, event: dict[str, Any]) -> None:
        cid = (event.get("channel") or {}).get("id")
        if cid in self._media.values():
            return  # our external media leg: not a call of its own
        if event.get("type") == "StasisStart" and self.media_host and cid:
            await self._attach_media(cid)
        update = parse_event(event, self._answered)
        if update is not None and update.status in FINAL_STATUSES and cid:
            self._media.pop(cid, None)
            if self.media_hub is not None:
                self.media_hub.forget(cid)
        if update is not None and self._handler is not None:
            await self._handler(update)

    async def _attach_media(self, cid: str) -> None:
        """Bridge the answered callee to an AudioSocket external-media leg (UUID = call id)."""
        try:
            media_uuid = str(uuid.UUID(hex=cid))
        except ValueError:
            media_uuid = str(uuid.uuid5(uuid.NAMESPACE_URL, cid))
        media_id = f"{cid}-media"
        self._media[cid] = media_id
        try:
            http = self._http()
            async with http.post(
                f"{self.base_url}/ari/channels/externalMedia",
                params={
                    "channelId": media_id,
                    "app": self.app,
                    "external_host": self.media_host or "",
                    "format": self.media_format,
                    "encapsulation": "audiosocket",
                    "transport": "tcp",
                    "data": media_uuid,
                },
                auth=self._auth,
            ) as r:
                r.raise_for_status()
            async with http.post(
                f"{self.base_url}/ari/bridges", params={"type": "mixing"}, auth=self._auth
            ) as r:
                r.raise_for_status()
                bridge = str((await r.json())["id"])
            async with http.post(
                f"{self.base_url}/ari/bridges/{bridge}/addChannel",
                params={"channel": f"{cid},{media_id}"},
                auth=self._auth,
            ) as r:
                r.raise_for_status()
        except (aiohttp.ClientError, KeyError, ValueError) as e:
            # the call stays up; its script finds no media and ends as answered, not a crash
            log.warning("ari.media_failed", channel=cid, error=repr(e))

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None


def parse_event(event: dict[str, Any], answered: set[str]) -> CallUpdate | None:
    """Map one ARI event to a CallUpdate (pure but for the set of answered channel ids)."""
    kind = event.get("type")
    channel = event.get("channel") or {}
    cid = channel.get("id")
    if not cid:
        return None
    if kind == "StasisStart":
        answered.add(cid)
        return CallUpdate(cid, CallStatus.ANSWERED, attempt_id=cid)
    if kind == "ChannelStateChange" and channel.get("state") == "Ringing":
        return CallUpdate(cid, CallStatus.RINGING, attempt_id=cid)
    if kind == "ChannelDestroyed":
        was_up = cid in answered
        answered.discard(cid)
        cause = int(event.get("cause", 0) or 0)
        return CallUpdate(
            cid,
            status_for_cause(cause, answered=was_up),
            cause=f"{cause} {event.get('cause_txt', '')}".strip(),
            attempt_id=cid,
        )
    return None
