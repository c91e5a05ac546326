"""/voice/twilio refuses Media Streams handshakes without our account's X-Twilio-Signature."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from channels.api import build_router
from channels.twilio_stream import HandshakeSignature
from core.twilio_signature import signature
from tests.unit.channels.test_twilio_serializer import CONNECTED, START

TOKEN = "test-auth-token"
STOP = '{"event": "stop", "streamSid": "MZ18ad3ab5a668481ce02b83e7395059f0"}'


def _client(guard: HandshakeSignature) -> tuple[TestClient, list]:
    calls: list = []

    async def factory(session) -> None:
        calls.append(session)

    app = FastAPI()
    app.include_router(build_router(voice_factory=factory, twilio_signature=guard))
    return TestClient(app), calls


@pytest.mark.parametrize("header", [None, "bm90IGEgc2lnbmF0dXJl"])
def test_unsigned_or_badly_signed_handshake_is_refused(header: str | None) -> None:
    client, calls = _client(HandshakeSignature(TOKEN))
    headers = {"X-Twilio-Signature": header} if header else {}
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect("/voice/twilio", headers=headers),
    ):
        pass
    assert refused.value.code == 1008
    assert calls == []


@pytest.mark.parametrize(
    ("public", "signed_url"),
    [
        ("", "ws://testserver/voice/twilio?x=1"),
        ("", "wss://testserver/voice/twilio?x=1"),  # TLS ended at a proxy
        ("wss://hotline.example.com", "wss://hotline.example.com/voice/twilio?x=1"),
    ],
)
def test_signed_handshake_starts_the_call(public: str, signed_url: str) -> None:
    client, calls = _client(HandshakeSignature(TOKEN, public))
    headers = {"X-Twilio-Signature": signature(TOKEN, signed_url)}
    with client.websocket_connect("/voice/twilio?x=1", headers=headers) as ws:
        ws.send_text(CONNECTED)
        ws.send_text(START)
        ws.send_text(STOP)
    assert len(calls) == 1 and calls[0].channel == "twilio" and calls[0].language == "zh"


def test_a_signature_for_another_url_is_refused() -> None:
    client, _ = _client(HandshakeSignature(TOKEN))
    headers = {"X-Twilio-Signature": signature(TOKEN, "wss://evil.example/voice/twilio")}
    with (
        pytest.raises(WebSocketDisconnect),
        client.websocket_connect("/voice/twilio", headers=headers),
    ):
        pass


def test_without_a_token_every_handshake_is_accepted() -> None:
    client, calls = _client(HandshakeSignature(""))
    with client.websocket_connect("/voice/twilio") as ws:
        ws.send_text(CONNECTED)
        ws.send_text(START)
        ws.send_text(STOP)
    assert len(calls) == 1
