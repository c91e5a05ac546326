"""Asterisk AudioSocket framing, as pure functions: 3-byte header (kind, uint16 BE length).

Kinds: 0x00 hang-up, 0x01 call UUID (16 bytes), 0x03 DTMF digit, 0x10 signed-linear 16-bit
8 kHz audio, 0x12 signed-linear 16 kHz (newer Asterisk ``AudioSocket`` with slin16),
0xff error. Audio payloads are little-endian PCM16 mono (Asterisk's native slin).
Reference: Asterisk ``res/res_audiosocket.c`` and https://docs.asterisk.org (AudioSocket).
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass

from channels.errors import WireFormatError

KIND_HANGUP = 0x00
KIND_UUID = 0x01
KIND_DTMF = 0x03
KIND_SLIN_8K = 0x10
KIND_SLIN_16K = 0x12
KIND_ERROR = 0xFF
AUDIO_KINDS = {KIND_SLIN_8K: 8_000, KIND_SLIN_16K: 16_000}
RATE_TO_KIND = {rate: kind for kind, rate in AUDIO_KINDS.items()}
HEADER = struct.Struct(">BH")
MAX_PAYLOAD = 0xFFFF


@dataclass(frozen=True)
class AudioSocketFrame:
    kind: int
    payload: bytes

    @property
    def sample_rate_hz(self) -> int | None:
        return AUDIO_KINDS.get(self.kind)


def encode_frame(kind: int, payload: bytes = b"") -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise WireFormatError(f"audiosocket: payload of {len(payload)} bytes is too long")
    return HEADER.pack(kind, len(payload)) + payload


def encode_audio(pcm16: bytes, sample_rate_hz: int) -> bytes:
    try:
        return encode_frame(RATE_TO_KIND[sample_rate_hz], pcm16)
    except KeyError:
        raise WireFormatError(f"audiosocket: no frame kind for {sample_rate_hz} Hz") from None


def encode_uuid(call_id: uuid.UUID) -> bytes:
    return encode_frame(KIND_UUID, call_id.bytes)


def decode_uuid(frame: AudioSocketFrame) -> str:
    if frame.kind != KIND_UUID or len(frame.payload) != 16:
        raise WireFormatError("audiosocket: the first frame must be a 16-byte UUID")
    return str(uuid.UUID(bytes=frame.payload))


class FrameDecoder:
    """Incremental decoder: feed bytes as they arrive, get whole frames back."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[AudioSocketFrame]:
        self._buf += data
        out: list[AudioSocketFrame] = []
        while len(self._buf) >= HEADER.size:
            kind, length = HEADER.unpack_from(self._buf)
            if len(self._buf) < HEADER.size + length:
                break
            payload = bytes(self._buf[HEADER.size : HEADER.size + length])
            del self._buf[: HEADER.size + length]
            out.append(AudioSocketFrame(kind, payload))
        return out

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame (non-zero at EOF means a truncated frame)."""
        return len(self._buf)
