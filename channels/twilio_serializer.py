"""Twilio Media Streams wire format (JSON text frames, 8 kHz μ-law), as pure functions.

Inbound events: ``connected``, ``start``, ``media``, ``mark``, ``dtmf``, ``stop``. Outbound:
``media`` (bot audio), ``mark`` (playback position) and ``clear`` (drop buffered audio: the
barge-in). Reference: https://www.twilio.com/docs/voice/media-streams/websocket-messages
No network here, so the format is tested on recorded wire samples.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field

from channels.errors import UnsupportedMedia, WireFormatError
from channels.g711 import pcm16_to_ulaw, ulaw_to_pcm16

TWILIO_RATE_HZ = 8_000
TWILIO_ENCODING = "audio/x-mulaw"


@dataclass(frozen=True)
class Connected:
    protocol: str = "Call"


@dataclass(frozen=True)
class Start:
    stream_sid: str
    call_sid: str | None
    encoding: str
    sample_rate_hz: int
    channels: int
    custom_parameters: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Media:
    stream_sid: str | None
    pcm16: bytes  # decoded from μ-law, 8 kHz
    track: str = "inbound"
    chunk: int | None = None
    timestamp_ms: int | None = None


@dataclass(frozen=True)
class Mark:
    stream_sid: str | None
    name: str


@dataclass(frozen=True)
class Dtmf:
    stream_sid: str | None
    digit: str


@dataclass(frozen=True)
class Stop:
    stream_sid: str | None
    call_sid: str | None = None


TwilioMessage = Connected | Start | Media | Mark | Dtmf | Stop


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def parse_message(text: str | bytes) -> TwilioMessage | None:
    """Decode one inbound message; ``None`` for an event we do not use; raises on garbage."""
    try:
        msg = json.loads(text)
    except (ValueError, UnicodeDecodeError) as e:
        raise WireFormatError(f"twilio: not JSON: {e}") from e
    if not isinstance(msg, dict):
        raise WireFormatError("twilio: message is not a JSON object")
    event = msg.get("event")
    sid = msg.get("streamSid")
    if event == "connected":
        return Connected(protocol=str(msg.get("protocol", "Call")))
    if event == "start":
        start = msg.get("start") or {}
        fmt = start.get("mediaFormat") or {}
        encoding = str(fmt.get("encoding", TWILIO_ENCODING))
        rate = _int(fmt.get("sampleRate", TWILIO_RATE_HZ)) or 0
        if encoding != TWILIO_ENCODING or rate != TWILIO_RATE_HZ:
            raise UnsupportedMedia(
                f"twilio: media {encoding!r} at {rate} Hz; only {TWILIO_ENCODING} 8000 Hz"
            )
        return Start(
            stream_sid=str(start.get("streamSid") or sid or ""),
            call_sid=start.get("callSid"),
            encoding=encoding,
            sample_rate_hz=rate,
            channels=_int(fmt.get("channels", 1)) or 1,
            custom_parameters={
                str(k): str(v) for k, v in (start.get("customParameters") or {}).items()
            },
        )
    if event == "media":
        media = msg.get("media") or {}
        payload = media.get("payload")
        if not isinstance(payload, str):
            raise WireFormatError("twilio: media without payload")
        try:
            ulaw = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError) as e:
            raise WireFormatError(f"twilio: bad base64 payload: {e}") from e
        return Media(
            stream_sid=sid,
            pcm16=ulaw_to_pcm16(ulaw),
            track=str(media.get("track", "inbound")),
            chunk=_int(media.get("chunk")),
            timestamp_ms=_int(media.get("timestamp")),
        )
    if event == "mark":
        return Mark(stream_sid=sid, name=str((msg.get("mark") or {}).get("name", "")))
    if event == "dtmf":
        return Dtmf(stream_sid=sid, digit=str((msg.get("dtmf") or {}).get("digit", "")))
    if event == "stop":
        return Stop(stream_sid=sid, call_sid=(msg.get("stop") or {}).get("callSid"))
    if isinstance(event, str):
        return None
    raise WireFormatError("twilio: message without event")


def encode_media(stream_sid: str, pcm16_8k: bytes) -> str:
    """Bot audio (PCM16 at 8 kHz) → one outbound ``media`` message."""
    payload = base64.b64encode(pcm16_to_ulaw(pcm16_8k)).decode("ascii")
    return json.dumps({"event": "media", "streamSid": stream_sid, "media": {"payload": payload}})


def encode_clear(stream_sid: str) -> str:
    """Tell Twilio to drop the audio it still buffers (barge-in)."""
    return json.dumps({"event": "clear", "streamSid": stream_sid})


def encode_mark(stream_sid: str, name: str) -> str:
    """Ask Twilio to echo ``name`` back once the audio sent before it has played."""
    return json.dumps({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}})
