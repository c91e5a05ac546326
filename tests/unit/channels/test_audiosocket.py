"""AudioSocket framing on hand-built wire samples (type byte, uint16 BE length, payload)."""

import uuid

import pytest

from channels import audiosocket as fmt
from channels.errors import WireFormatError

CALL = uuid.UUID("40f3a5e2-8c7b-4a3e-9d2b-1f0e5d6c7b8a")
# What Asterisk sends: UUID frame, 20 ms slin 8 kHz, 20 ms slin16, DTMF '5', hang-up.
WIRE = (
    b"\x01\x00\x10" + CALL.bytes
    + b"\x10\x01\x40" + b"\x01\x00" * 160
    + b"\x12\x02\x80" + b"\x02\x00" * 320
    + b"\x03\x00\x01" + b"5"
    + b"\x00\x00\x00"
)  # fmt: skip


def test_decodes_a_whole_call_in_any_chunking() -> None:
    for step in (1, 3, 7, 500, len(WIRE)):
        dec = fmt.FrameDecoder()
        frames = []
        for i in range(0, len(WIRE), step):
            frames += dec.feed(WIRE[i : i + step])
        assert [f.kind for f in frames] == [0x01, 0x10, 0x12, 0x03, 0x00]
        assert fmt.decode_uuid(frames[0]) == str(CALL)
        assert frames[1].sample_rate_hz == 8000 and len(frames[1].payload) == 320
        assert frames[2].sample_rate_hz == 16000 and len(frames[2].payload) == 640
        assert dec.pending == 0


def test_encodes_what_it_decodes() -> None:
    audio = fmt.encode_audio(b"\x01\x00" * 160, 8000)
    assert audio[:3] == b"\x10\x01\x40"
    assert fmt.encode_audio(b"\x00" * 640, 16000)[:3] == b"\x12\x02\x80"
    assert fmt.encode_uuid(CALL) == WIRE[:19]
    assert fmt.encode_frame(fmt.KIND_HANGUP) == b"\x00\x00\x00"


def test_truncated_frame_stays_pending() -> None:
    dec = fmt.FrameDecoder()
    assert dec.feed(b"\x10\x01\x40" + b"\x00" * 100) == []
    assert dec.pending == 103


def test_bad_frames_raise() -> None:
    with pytest.raises(WireFormatError):
        fmt.decode_uuid(fmt.AudioSocketFrame(0x01, b"short"))
    with pytest.raises(WireFormatError):
        fmt.decode_uuid(fmt.AudioSocketFrame(0x10, CALL.bytes))
    with pytest.raises(WireFormatError):
        fmt.encode_audio(b"\x00" * 10, 44_100)
    with pytest.raises(WireFormatError):
        fmt.encode_frame(0x10, b"\x00" * 70_000)
