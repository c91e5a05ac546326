"""Batch transcription of stored recordings: the core of the re-transcribe job.

Why sequential: the machine has two cores and one shared Whisper model; running files one
after another keeps the live calls' share of CPU predictable (the job runner decides when to
run). Decoding and inference run in worker threads so the event loop keeps serving. A file
that cannot be decoded or transcribed does not stop the batch: its Transcript is empty and
carries ``extra["error"] = {"code", "message"}``; every Transcript carries ``extra["file"]``.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterable
from pathlib import Path

from asr.audio_io import decode_file
from asr.base import SpeechToText, Transcript, transcribe
from asr.errors import ASRError


async def transcribe_recordings(
    paths: Iterable[str | Path],
    engine: SpeechToText,
    *,
    language: str | None,
    beam_size: int | None = None,
    word_timestamps: bool = False,
) -> list[Transcript]:
    """Transcribe each recording in order; one Transcript per path, failures included."""
    out: list[Transcript] = []
    for path in paths:
        name = str(path)
        try:
            audio = await asyncio.to_thread(decode_file, path)
            result = await transcribe(
                engine,
                audio.pcm16,
                sample_rate_hz=audio.sample_rate_hz,
                language=language,
                beam_size=beam_size,
                word_timestamps=word_timestamps,
            )
        except ASRError as e:
            out.append(
                Transcript(
                    "", None, extra={"file": name, "error": {"code": e.code, "message": e.message}}
                )
            )
            continue
        out.append(dataclasses.replace(result, extra={**result.extra, "file": name}))
    return out
