"""A protocol fake of Asterisk ARI on localhost: ``POST/DELETE /ari/channels`` + ``/ari/events``.

Speaks the subset of ARI a dialer uses, with the published shapes: originate returns a
Channel JSON, events are ``ChannelStateChange`` (Ringing), ``StasisStart`` (answered into the
app) and ``ChannelDestroyed`` with Q.850 ``cause``/``cause_txt``. What each number does is
scripted: answer | busy | no_answer | invalid | error (HTTP 500 on originate).
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections import Counter
from typing import Any

from aiohttp import WSMsgType, web

CAUSES = {
    "busy": (17, "User busy"),
    "no_answer": (19, "No answer"),
    "invalid": (1, "Unallocated (unassigned) number"),
}


class AriFake:
    def __init__(
        self,
        script: dict[str, str] | None = None,
        *,
        default: str = "answer",
        username: str = "hotline",
        password: str = "secret",
    ) -> None:
        self.script = dict(script or {})
        self.default = default
        self._cred = f"{username}:{password}"
        self.originates: list[dict[str, Any]] = []
        self.dialed: Counter[str] = Counter()
        self.hangups: list[str] = []
        self.channels: dict[str, dict[str, Any]] = {}
        self._sockets: set[web.WebSocketResponse] = set()
        self._tasks: set[asyncio.Task] = set()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    def _authorized(self, request: web.Request) -> bool:
        if request.query.get("api_key") == self._cred:
            return True
        auth = request.headers.get("Authorization", "")
        return auth == "Basic " + base64.b64encode(self._cred.encode()).decode()

    async def __aenter__(self) -> AriFake:
        app = web.Application()
        app.router.add_post("/ari/channels", self._originate)
        app.router.add_delete("/ari/channels/{id}", self._hangup)
        app.router.add_get("/ari/events", self._events)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        for t in self._tasks:
            t.cancel()
        for ws in list(self._sockets):
            await ws.close()
        if self._runner:
            await self._runner.cleanup()

    async def _events(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return web.Response(status=401)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.ERROR:
                    break
        finally:
            self._sockets.discard(ws)
        return ws

    async def _send(self, event: dict[str, Any]) -> None:
        for ws in list(self._sockets):
            await ws.send_str(json.dumps(event))

    async def _originate(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.Response(status=401)
        q = request.query
        endpoint = q.get("endpoint", "")
        number = endpoint.split("/", 1)[-1].split("@", 1)[0]
        body = await request.json() if request.can_read_body else {}
        self.originates.append({**dict(q), "variables": body.get("variables", {})})
        outcome = self.script.get(number, self.default)
        if outcome == "error":
            return web.json_response({"message": "Allocation failed"}, status=500)
        cid = q.get("channelId") or f"ch-{len(self.originates)}"
        if cid in self.channels:
            return web.json_response({"message": "Channel with id exists"}, status=409)
        self.dialed[number] += 1
        channel = {
            "id": cid,
            "name": f"{endpoint}-{len(self.channels):08x}",
            "state": "Down",
            "caller": {"name": "", "number": q.get("callerId", "")},
            "connected": {"name": "", "number": number},
            "dialplan": {},
        }
        self.channels[cid] = channel
        task = asyncio.create_task(self._play(channel, outcome))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.json_response(channel)

    async def _play(self, channel: dict[str, Any], outcome: str) -> None:
        await self._send(
            {
                "type": "ChannelStateChange",
                "application": "hotline",
                "channel": {**channel, "state": "Ringing"},
            }
        )
        if outcome.startswith("answer"):
            channel["state"] = "Up"
            await self._send(
                {
                    "type": "StasisStart",
                    "application": "hotline",
                    "args": [],
                    "channel": dict(channel),
                }
            )
            return
        cause, txt = CAUSES.get(outcome, (19, "No answer"))
        self.channels.pop(channel["id"], None)
        await self._send(
            {
                "type": "ChannelDestroyed",
                "application": "hotline",
                "cause": cause,
                "cause_txt": txt,
                "channel": dict(channel),
            }
        )

    async def _hangup(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.Response(status=401)
        cid = request.match_info["id"]
        channel = self.channels.pop(cid, None)
        if channel is None:
            return web.json_response({"message": "Channel not found"}, status=404)
        self.hangups.append(cid)
        await self._send(
            {
                "type": "ChannelDestroyed",
                "application": "hotline",
                "cause": 16,
                "cause_txt": "Normal Clearing",
                "channel": channel,
            }
        )
        return web.Response(status=204)
