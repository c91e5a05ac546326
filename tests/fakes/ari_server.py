"""A protocol fake of Asterisk ARI on localhost: ``POST/DELETE /ari/channels`` + ``/ari/events``.

Speaks the subset of ARI a dialer uses, with the published shapes: originate returns a
Channel JSON, events are ``ChannelStateChange`` (Ringing), ``StasisStart`` (answered into the
app) and ``ChannelDestroyed`` with Q.850 ``cause``/``cause_txt``. What each number does is
scripted: answer | busy | no_answer | invalid | error (HTTP 500 on originate).

With ``callees`` (number → ``Callee``), external media works too: ``POST
/ari/channels/externalMedia`` (AudioSocket encapsulation), ``POST /ari/bridges`` and
``addChannel``; once an answered callee shares a bridge with an external media channel, the
fake connects to its ``external_host`` as Asterisk does (UUID frame from ``data``, then 20 ms
signed-linear frames in real time at the channel's ``format``), records what it is played and
presses the callee's key (a DTMF frame) once a message has finished.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections import Counter
from typing import Any

from aiohttp import WSMsgType, web

from channels import audiosocket as fmt
from tests.fakes.twilio_server import Callee

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
        callees: dict[str, Callee] | None = None,
    ) -> None:
        self.callees = dict(callees or {})
        self.bridges: dict[str, list[str]] = {}
        self.media: dict[str, dict[str, str]] = {}  # external media channel -> its params
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
        app.router.add_post("/ari/channels/externalMedia", self._external_media)
        app.router.add_post("/ari/bridges", self._bridge)
        app.router.add_post("/ari/bridges/{id}/addChannel", self._add_channel)
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

    async def _external_media(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.Response(status=401)
        q = dict(request.query)
        if q.get("encapsulation") != "audiosocket" or not q.get("external_host"):
            return web.json_response({"message": "unsupported external media"}, status=400)
        cid = q.get("channelId") or f"media-{len(self.media)}"
        self.media[cid] = q
        channel = {"id": cid, "name": f"UnicastRTP/{q['external_host']}", "state": "Up"}
        await self._send({"type": "StasisStart", "application": "hotline", "channel": channel})
        return web.json_response(channel)

    async def _bridge(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.Response(status=401)
        bid = f"bridge-{len(self.bridges) + 1}"
        self.bridges[bid] = []
        return web.json_response({"id": bid, "bridge_type": request.query.get("type", "")})

    async def _add_channel(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.Response(status=401)
        bridge = self.bridges.get(request.match_info["id"])
        if bridge is None:
            return web.json_response({"message": "Bridge not found"}, status=404)
        bridge.extend(c for c in request.query.get("channel", "").split(",") if c)
        callee = next((c for c in bridge if c in self.channels), None)
        media = next((c for c in bridge if c in self.media), None)
        if callee and media:
            number = self.channels[callee]["connected"]["number"]
            person = self.callees.get(number)
            if person is not None:
                task = asyncio.create_task(self._audiosocket(callee, self.media[media], person))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        return web.Response(status=204)

    async def _audiosocket(self, callee: str, media: dict[str, str], person: Callee) -> None:
        """Asterisk's side of the AudioSocket leg: the callee talks and listens."""
        host, port = media["external_host"].rsplit(":", 1)
        rate = 16_000 if media.get("format") == "slin16" else 8_000
        kind = fmt.KIND_SLIN_16K if rate == 16_000 else fmt.KIND_SLIN_8K
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(fmt.encode_uuid(uuid.UUID(media["data"])))
        loop = asyncio.get_running_loop()
        last_audio = [0.0]
        decoder = fmt.FrameDecoder()

        async def hear() -> None:
            while data := await reader.read(4096):
                for frame in decoder.feed(data):
                    if frame.kind in fmt.AUDIO_KINDS:
                        person.heard += frame.payload
                        last_audio[0] = loop.time()
                    elif frame.kind == fmt.KIND_HANGUP:
                        return

        listener = asyncio.create_task(hear())
        step, n = rate // 50 * 2, 0
        try:
            while not listener.done() and callee in self.channels:
                chunk = person.says[n : n + step] if n < len(person.says) else b""
                n += step
                writer.write(fmt.encode_frame(kind, chunk.ljust(step, b"\x00")))
                quiet = loop.time() - last_audio[0]
                if person.key and not person.pressed and person.heard and quiet > 0.6:
                    person.pressed.append(person.key)
                    writer.write(fmt.encode_frame(fmt.KIND_DTMF, person.key.encode()))
                await writer.drain()
                await asyncio.sleep(0.02)
            writer.write(fmt.encode_frame(fmt.KIND_HANGUP))
            await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            listener.cancel()
            writer.close()

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
