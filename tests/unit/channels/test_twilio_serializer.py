"""Twilio Media Streams serializer on recorded wire samples (shapes from Twilio's docs)."""

import base64
import json

import numpy as np
import pytest

from channels import twilio_serializer as tw
from channels.errors import UnsupportedMedia, WireFormatError
from channels.g711 import pcm16_to_ulaw, ulaw_to_pcm16

CONNECTED = '{"event": "connected", "protocol": "Call", "version": "1.0.0"}'
START = json.dumps(
    {
        "event": "start",
        "sequenceNumber": "1",
        "start": {
            "accountSid": "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
            "streamSid": "MZ18ad3ab5a668481ce02b83e7395059f0",
            "callSid": "CA5a0e2fd8ad4b86b5a24b8ad3e0cd34f7",
            "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            "customParameters": {"language": "zh"},
        },
        "streamSid": "MZ18ad3ab5a668481ce02b83e7395059f0",
    }
)
# 20 ms of μ-law silence (0xFF) as Twilio sends it
MEDIA = json.dumps(
    {
        "event": "media",
        "sequenceNumber": "3",
        "media": {
            "track": "inbound",
            "chunk": "1",
            "timestamp": "5",
            "payload": base64.b64encode(b"\xff" * 160).decode(),
        },
        "streamSid": "MZ18ad3ab5a668481ce02b83e7395059f0",
    }
)
MARK = '{"event": "mark", "sequenceNumber": "4", "streamSid": "MZ1", "mark": {"name": "reply-1"}}'
DTMF = (
    '{"event": "dtmf", "streamSid": "MZ1", "sequenceNumber": "5",'
    ' "dtmf": {"track": "inbound_track", "digit": "1"}}'
)
STOP = (
    '{"event": "stop", "sequenceNumber": "5", "streamSid": "MZ1",'
    ' "stop": {"accountSid": "AC1", "callSid": "CA1"}}'
)


def test_parses_each_inbound_event() -> None:
    assert tw.parse_message(CONNECTED) == tw.Connected("Call")
    start = tw.parse_message(START)
    assert isinstance(start, tw.Start)
    assert start.stream_sid == "MZ18ad3ab5a668481ce02b83e7395059f0"
    assert (start.sample_rate_hz, start.channels, start.custom_parameters) == (
        8000,
        1,
        {"language": "zh"},
    )
    media = tw.parse_message(MEDIA)
    assert isinstance(media, tw.Media)
    assert media.pcm16 == b"\x00\x00" * 160 and media.chunk == 1 and media.timestamp_ms == 5
    assert tw.parse_message(MARK) == tw.Mark("MZ1", "reply-1")
    assert tw.parse_message(DTMF) == tw.Dtmf("MZ1", "1")
    assert tw.parse_message(STOP) == tw.Stop("MZ1", "CA1")
    assert tw.parse_message('{"event": "something-new"}') is None


def test_outbound_messages_have_twilios_shape() -> None:
    pcm = (np.sin(np.arange(160) / 5) * 8000).astype("<i2").tobytes()
    media = json.loads(tw.encode_media("MZ1", pcm))
    assert media["event"] == "media" and media["streamSid"] == "MZ1"
    assert base64.b64decode(media["media"]["payload"]) == pcm16_to_ulaw(pcm)
    assert json.loads(tw.encode_clear("MZ1")) == {"event": "clear", "streamSid": "MZ1"}
    assert json.loads(tw.encode_mark("MZ1", "m")) == {
        "event": "mark",
        "streamSid": "MZ1",
        "mark": {"name": "m"},
    }


@pytest.mark.parametrize(
    "bad",
    [
        "not json",
        "[1, 2]",
        '{"no": "event"}',
        '{"event": "media", "media": {}}',
        '{"event": "media", "media": {"payload": "***"}}',
    ],
)
def test_malformed_messages_raise_wire_format_errors(bad: str) -> None:
    with pytest.raises(WireFormatError):
        tw.parse_message(bad)


def test_wrong_codec_is_refused() -> None:
    msg = json.loads(START)
    msg["start"]["mediaFormat"] = {"encoding": "audio/x-l16", "sampleRate": 16000, "channels": 1}
    with pytest.raises(UnsupportedMedia):
        tw.parse_message(json.dumps(msg))


def test_mulaw_codec_matches_g711_reference_points_and_round_trips() -> None:
    assert pcm16_to_ulaw(b"\x00\x00") == b"\xff"
    assert ulaw_to_pcm16(b"\x80") == np.array([32124], dtype="<i2").tobytes()
    assert ulaw_to_pcm16(b"\x00") == np.array([-32124], dtype="<i2").tobytes()
    x = np.linspace(-30000, 30000, 4001).astype("<i2")
    y = np.frombuffer(ulaw_to_pcm16(pcm16_to_ulaw(x.tobytes())), dtype="<i2")
    err = np.abs(y.astype(int) - x.astype(int))
    assert (err <= np.maximum(16, np.abs(x.astype(int)) // 16)).all()  # μ-law step ≈ 1/16 of level
