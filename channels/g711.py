"""G.711 μ-law codec (ITU-T G.711) in numpy: telephony's 8-bit audio ↔ PCM16.

``audioop`` is deprecated (gone in Python 3.13), so the codec is written out; both
directions are pure functions and round-trip within μ-law's quantisation.
"""

from __future__ import annotations

import numpy as np

_BIAS = 0x84
_BIAS14 = 0x21
_CLIP14 = 8159
_SEG_END = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])


def _decode_table() -> np.ndarray:
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = u & 0x80
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(sign != 0, -magnitude, magnitude).astype("<i2")


_DECODE = _decode_table()


def ulaw_to_pcm16(ulaw: bytes) -> bytes:
    """μ-law bytes → PCM16 little-endian bytes (same sample count)."""
    return _DECODE[np.frombuffer(ulaw, dtype=np.uint8)].tobytes()


def pcm16_to_ulaw(pcm16: bytes) -> bytes:
    """PCM16 little-endian bytes → μ-law bytes (a torn last byte is dropped).

    The 14-bit reference algorithm (Sun g711.c, as in CPython's ``audioop``) bit for bit.
    """
    x = np.frombuffer(pcm16[: len(pcm16) // 2 * 2], dtype="<i2").astype(np.int32) >> 2
    mask = np.where(x < 0, 0x7F, 0xFF)
    x = np.minimum(np.abs(x), _CLIP14) + _BIAS14
    seg = np.searchsorted(_SEG_END, x)
    uval = np.where(seg >= 8, 0x7F, (seg << 4) | ((x >> (seg + 1)) & 0x0F))
    return ((uval ^ mask) & 0xFF).astype(np.uint8).tobytes()
