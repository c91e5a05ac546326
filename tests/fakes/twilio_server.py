"""A protocol fake of Twilio's call-create REST API on localhost, with status callbacks.

``POST /2010-04-01/Accounts/{Sid}/Calls.json`` (form-encoded, basic auth) answers 201 with a
Call resource, then POSTs signed status callbacks (``X-Twilio-Signature``) to the call's
``StatusCallback``: initiated, ringing, then in-progress | busy | no-answer | failed.
``POST Calls/{CallSid}.json Status=completed`` hangs up and sends ``completed``.
Scripted per number: answer | answer_machine | busy | no_answer | invalid (400, code 21211) |
error (500).

With ``callees`` (number → :class:`Callee`), an answered call also opens the Media Streams
websocket named in the call's TwiML ``<Connect><Stream>`` the way Twilio does (``connected``,
``start`` with the ``<Parameter>``s and the CallSid, then 20 ms μ-law ``media`` frames in
real time), records what the far end plays, and presses the callee's key once a message has
finished playing.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from html import unescape
from typing import Any

import httpx
import websockets
from aiohttp import web

from channels.g711 import pcm16_to_ulaw, ulaw_to_pcm16


@dataclass
class Callee:
    """Who picks up: what they say first (PCM16 8 kHz), the key they press, what they heard."""

    says: bytes = b""
    key: str | None = None
    heard: bytearray = field(default_factory=bytearray)  # PCM16 8 kHz the far end played
    pressed: list[str] = field(default_factory=list)


def _sign(token: str, url: str, params: dict[str, str]) -> str:
    payload = url + "".join(k + params[k] for k in sorted(params))
    return base64.b64encode(
        hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    ).decode()


class TwilioFake:
    def __init__(
        self,
        script: dict[str, str] | None = None,
        *,
        default: str = "answer",
        account_sid: str = "AC" + "0" * 32,
        auth_token: str = "tok",
        callees: dict[str, Callee] | None = None,
    ) -> None:
        self.callees = dict(callees or {})
        self.script = dict(script or {})
        self.default = default
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.creates: list[dict[str, Any]] = []
        self.dialed: Counter[str] = Counter()
        self.calls: dict[str, dict[str, Any]] = {}
        self._tasks: set[asyncio.Task] = set()
        self._runner: web.AppRunner | None = None
        self._http = httpx.AsyncClient(timeout=10)
        self.base_url = ""

    async def __aenter__(self) -> TwilioFake:
        app = web.Application()
        base = "/2010-04-01/Accounts/{sid}/Calls"
        app.router.add_post(base + ".json", self._create)
        app.router.add_post(base + "/{call}.json", self._update)
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
        await self._http.aclose()
        if self._runner:
            await self._runner.cleanup()

    def _authorized(self, request: web.Request) -> bool:
        cred = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {cred}" and (
            request.match_info["sid"] == self.account_sid
        )

    async def _create(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"code": 20003, "message": "Authenticate"}, status=401)
        form = await request.post()
        to = str(form.get("To", ""))
        self.creates.append({k: form.getall(k) for k in set(form.keys())})
        outcome = self.script.get(to, self.default)
        if outcome == "error":
            return web.json_response({"code": 20500, "message": "Internal error"}, status=500)
        if outcome == "invalid" or not to.startswith("+"):
            return web.json_response(
                {"code": 21211, "message": f"The 'To' number {to} is not a valid phone number."},
                status=400,
            )
        sid = "CA" + uuid.uuid4().hex
        self.dialed[to] += 1
        call = {
            "sid": sid,
            "to": to,
            "from": str(form.get("From", "")),
            "status": "queued",
            "callback": str(form.get("StatusCallback", "")),
            "amd": form.get("MachineDetection") == "Enable",
            "twiml": str(form.get("Twiml", "")),
        }
        self.calls[sid] = call
        task = asyncio.create_task(self._play(call, outcome))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.json_response(
            {
                "sid": sid,
                "account_sid": self.account_sid,
                "to": to,
                "from": call["from"],
                "status": "queued",
            },
            status=201,
        )

    async def _callback(self, call: dict[str, Any], status: str, **extra: str) -> None:
        call["status"] = status
        params = {
            "CallSid": call["sid"],
            "AccountSid": self.account_sid,
            "To": call["to"],
            "From": call["from"],
            "CallStatus": status,
            "Direction": "outbound-api",
            **extra,
        }
        if not call["callback"]:
            return
        await self._http.post(
            call["callback"],
            data=params,
            headers={"X-Twilio-Signature": _sign(self.auth_token, call["callback"], params)},
        )

    async def _play(self, call: dict[str, Any], outcome: str) -> None:
        await self._callback(call, "initiated")
        await self._callback(call, "ringing")
        if outcome.startswith("answer"):
            extra = {}
            if call["amd"]:
                extra["AnsweredBy"] = "machine_start" if outcome == "answer_machine" else "human"
            await self._callback(call, "in-progress", **extra)
            callee = self.callees.get(call["to"])
            if callee is not None and "<Stream" in call["twiml"]:
                await self._stream(call, callee)
            return
        await self._callback(
            call, {"busy": "busy", "no_answer": "no-answer"}.get(outcome, "failed")
        )

    async def _stream(self, call: dict[str, Any], callee: Callee) -> None:
        """Twilio's side of a bidirectional Media Stream for one answered call."""
        url = unescape(re.search(r'<Stream url="([^"]+)"', call["twiml"]).group(1))  # type: ignore[union-attr]
        params = {
            unescape(k): unescape(v)
            for k, v in re.findall(r'<Parameter name="([^"]*)" value="([^"]*)"/>', call["twiml"])
        }
        sid = "MZ" + uuid.uuid4().hex
        start = {
            "event": "start",
            "sequenceNumber": "1",
            "streamSid": sid,
            "start": {
                "accountSid": self.account_sid,
                "streamSid": sid,
                "callSid": call["sid"],
                "tracks": ["inbound"],
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                "customParameters": params,
            },
        }
        async with websockets.connect(url) as ws:
            await ws.send(json.dumps({"event": "connected", "protocol": "Call"}))
            await ws.send(json.dumps(start))
            loop = asyncio.get_running_loop()
            last_audio = [0.0]

            async def hear() -> None:
                async for text in ws:
                    msg = json.loads(text)
                    if msg.get("event") == "media":
                        callee.heard += ulaw_to_pcm16(base64.b64decode(msg["media"]["payload"]))
                        last_audio[0] = loop.time()

            listener = asyncio.create_task(hear())
            audio = callee.says
            n = 0
            try:
                while not listener.done() and call["status"] == "in-progress":
                    frame = audio[n : n + 320] if n < len(audio) else b""
                    frame = frame.ljust(320, b"\x00")
                    n += 320
                    payload = base64.b64encode(pcm16_to_ulaw(frame)).decode()
                    media = {"event": "media", "streamSid": sid, "media": {"payload": payload}}
                    await ws.send(json.dumps(media))
                    quiet = loop.time() - last_audio[0]
                    if callee.key and not callee.pressed and callee.heard and quiet > 0.6:
                        callee.pressed.append(callee.key)  # the message ended: press the key
                        dtmf = {"event": "dtmf", "streamSid": sid, "dtmf": {"digit": callee.key}}
                        await ws.send(json.dumps(dtmf))
                    await asyncio.sleep(0.02)
                await ws.send(json.dumps({"event": "stop", "streamSid": sid}))
            except websockets.ConnectionClosed:
                pass
            finally:
                listener.cancel()

    async def _update(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"code": 20003}, status=401)
        form = await request.post()
        call = self.calls.get(request.match_info["call"])
        if call is None:
            return web.json_response({"code": 20404}, status=404)
        if form.get("Status") == "completed" and call["status"] == "in-progress":
            task = asyncio.create_task(self._callback(call, "completed", CallDuration="12"))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return web.json_response({"sid": call["sid"], "status": call["status"]})
