"""Phone transports into the real pipeline: Twilio Media Streams (8 kHz μ-law) and Asterisk
AudioSocket (slin 8 kHz and slin16), each streamed in real time; plus bad input."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid

import numpy as np
import pytest
import soxr

from channels import audiosocket as fmt
from channels.audiosocket_server import serve_audiosocket
from channels.g711 import pcm16_to_ulaw, ulaw_to_pcm16
from tests.integration.voice.conftest import silence

pytestmark = pytest.mark.slow
QUESTION = "What are your opening hours?"


def at_rate(pcm16: bytes, rate_hz: int) -> bytes:
    x = np.frombuffer(pcm16, dtype="<i2")
    return (
        x.tobytes()
        if rate_hz == 16_000
        else soxr.resample(x, 16_000, rate_hz).astype("<i2").tobytes()
    )


async def paced(chunks: list[bytes], send, frame_s: float = 0.02) -> None:
    t0 = time.monotonic()
    for i, c in enumerate(chunks):
        await send(c)
        delay = t0 + (i + 1) * frame_s - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


def frames_of(pcm16: bytes, frame_bytes: int) -> list[bytes]:
    return [
        pcm16[i : i + frame_bytes].ljust(frame_bytes, b"\0")
        for i in range(0, len(pcm16), frame_bytes)
    ]


async def test_twilio_media_stream_call(voice_server, say) -> None:
    import websockets

    audio8k = at_rate(silence(2.5) + say(QUESTION) + silence(4.0), 8_000)
    sid = "MZ" + uuid.uuid4().hex
    received: list[dict] = []
    async with websockets.connect(f"{voice_server.ws}/voice/twilio") as ws:
        await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        await ws.send(
            json.dumps(
                {
                    "event": "start",
                    "streamSid": sid,
                    "start": {
                        "streamSid": sid,
                        "callSid": "CA1",
                        "tracks": ["inbound"],
                        "mediaFormat": {
                            "encoding": "audio/x-mulaw",
                            "sampleRate": 8000,
                            "channels": 1,
                        },
                        "customParameters": {"language": "en"},
                    },
                }
            )
        )

        async def reader() -> None:
            async for msg in ws:
                received.append(json.loads(msg))

        task = asyncio.create_task(reader())

        async def send(chunk: bytes) -> None:
            payload = base64.b64encode(pcm16_to_ulaw(chunk)).decode()
            await ws.send(
                json.dumps(
                    {
                        "event": "media",
                        "streamSid": sid,
                        "media": {"track": "inbound", "payload": payload},
                    }
                )
            )

        await paced(frames_of(audio8k, 320), send)
        await voice_server.wait_for(lambda: voice_server.of("bot.reply"))
        await ws.send(json.dumps({"event": "stop", "streamSid": sid, "stop": {"callSid": "CA1"}}))
        await voice_server.wait_for(lambda: voice_server.of("contact.ended"))
        task.cancel()
    finals = voice_server.of("transcript.final")
    assert finals and "opening hours" in finals[0].text.lower()
    assert voice_server.of("bot.reply")[0].text.startswith("Our branches are open")
    media = [m for m in received if m["event"] == "media"]
    assert media and all(m["streamSid"] == sid for m in media)
    bot = np.frombuffer(
        b"".join(ulaw_to_pcm16(base64.b64decode(m["media"]["payload"])) for m in media), "<i2"
    )
    assert len(base64.b64decode(media[0]["media"]["payload"])) == 160  # 20 ms of 8 kHz μ-law
    assert np.abs(bot).max() > 1000


async def test_twilio_wrong_codec_is_refused(voice_server) -> None:
    import websockets

    async with websockets.connect(f"{voice_server.ws}/voice/twilio") as ws:
        await ws.send(
            json.dumps(
                {
                    "event": "start",
                    "start": {
                        "streamSid": "MZ1",
                        "mediaFormat": {"encoding": "audio/x-l16", "sampleRate": 16000},
                    },
                }
            )
        )
        with pytest.raises(websockets.ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), 10)
    assert info.value.rcvd.code == 1003


@pytest.mark.parametrize("rate_hz", [8_000, 16_000])
async def test_audiosocket_call(voice_server, say, rate_hz: int) -> None:
    server = await serve_audiosocket("127.0.0.1", 0, voice_factory=voice_server.factory)
    port = server.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        call = uuid.uuid4()
        writer.write(fmt.encode_uuid(call))
        bot = bytearray()
        decoder = fmt.FrameDecoder()

        async def read() -> None:
            while data := await reader.read(4096):
                for f in decoder.feed(data):
                    if f.kind in fmt.AUDIO_KINDS:
                        assert f.sample_rate_hz == rate_hz  # answered at the caller's rate
                        bot.extend(f.payload)

        task = asyncio.create_task(read())
        audio = at_rate(silence(2.0) + say(QUESTION) + silence(4.0), rate_hz)

        async def send(chunk: bytes) -> None:
            writer.write(fmt.encode_audio(chunk, rate_hz))
            await writer.drain()

        await paced(frames_of(audio, rate_hz * 2 // 50), send)
        await voice_server.wait_for(lambda: voice_server.of("bot.reply"))
        writer.write(fmt.encode_frame(fmt.KIND_HANGUP))
        await writer.drain()
        await voice_server.wait_for(lambda: voice_server.of("contact.ended"))
        await asyncio.wait_for(task, 10)
    finally:
        server.close()
    assert voice_server.results[0].contact_id == call.hex
    assert "opening" in voice_server.of("transcript.final")[0].text.lower()
    assert voice_server.of("bot.reply")[0].text.startswith("Our branches are open")
    assert np.abs(np.frombuffer(bytes(bot), "<i2")).max() > 1000


async def test_audiosocket_garbage_ends_one_call_and_the_server_keeps_serving(voice_server) -> None:
    server = await serve_audiosocket("127.0.0.1", 0, voice_factory=voice_server.factory)
    port = server.sockets[0].getsockname()[1]
    try:
        # 1: a truncated frame then EOF mid-call
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(fmt.encode_uuid(uuid.uuid4()) + fmt.encode_audio(b"\0" * 320, 8000) * 10)
        writer.write(b"\x10\x01\x40" + b"\0" * 50)
        await writer.drain()
        writer.close()
        await voice_server.wait_for(lambda: len(voice_server.of("contact.ended")) == 1)
        errors = voice_server.of("contact.error")
        assert errors and errors[0].code == "wire_format"
        assert len(voice_server.of("audio.segment")) == 2  # its recording was still saved
        # 2: an unknown frame kind
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(fmt.encode_uuid(uuid.uuid4()) + fmt.encode_frame(0x42, b"??"))
        await writer.drain()
        await voice_server.wait_for(lambda: len(voice_server.of("contact.ended")) == 2)
        assert voice_server.of("contact.error")[-1].code == "unsupported_media"
        writer.close()
        # 3: the server still answers a well-formed call
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(fmt.encode_uuid(uuid.uuid4()) + fmt.encode_audio(b"\0" * 320, 8000))
        await writer.drain()
        await voice_server.wait_for(lambda: len(voice_server.of("contact.started")) == 3)
        writer.write(fmt.encode_frame(fmt.KIND_HANGUP))
        await writer.drain()
        await voice_server.wait_for(lambda: len(voice_server.of("contact.ended")) == 3)
        writer.close()
    finally:
        server.close()
