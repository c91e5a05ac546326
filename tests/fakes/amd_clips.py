"""Synthetic answered-call openings for AMD: people saying "Hello?" vs voicemail greetings.

Speech comes from espeak-ng (Debian package) or, when asked, from our Piper voice; each clip
gets a random lead-in silence, a low noise floor and, for voicemail, often a beep (a pure
tone of 1000-1800 Hz, 200-500 ms) after the greeting. Seeded, so the set is reproducible.
"""

from __future__ import annotations

import io
import random
import shutil
import subprocess
import wave
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

HUMAN = [
    "Hello?",
    "Hi.",
    "Yes?",
    "Hello, who is this?",
    "Hey.",
    "Speaking.",
    "Hello, John here.",
    "Hi, this is Mary.",
    "Yeah, hello?",
    "Good morning.",
    "Good afternoon, Robert Johnson speaking, how can I help you?",
]
MACHINE = [
    "Hi, you've reached John Smith. I can't come to the phone right now, please leave a "
    "message after the tone.",
    "Hello, this is the voicemail of Sarah. Please leave your name and number and I will call "
    "you back as soon as I can.",
    "The person you are calling is not available. Please record your message after the tone.",
    "Thanks for calling Acme Plumbing. Our office is closed. Leave a message and we will get "
    "back to you tomorrow.",
    "You have reached the Martinez family. We are not home right now, leave a message.",
    "Hey, it's Mike. Leave a message.",
    "Please leave a message.",
]


@dataclass(frozen=True)
class Clip:
    label: str  # "human" | "machine"
    text: str
    samples: np.ndarray  # int16
    sample_rate_hz: int
    beep: bool


Synth = Callable[[str, random.Random], tuple[np.ndarray, int]]


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def espeak(text: str, rng: random.Random) -> tuple[np.ndarray, int]:
    voice = rng.choice(["en-us", "en", "en-us+f3", "en+m3", "en-gb-x-rp"])
    args = [
        "espeak-ng",
        "--stdout",
        "-v",
        voice,
        "-s",
        str(rng.randint(140, 190)),
        "-p",
        str(rng.randint(35, 65)),
        text,
    ]
    wav = subprocess.run(args, capture_output=True, check=True).stdout
    with wave.open(io.BytesIO(wav)) as w:
        sr = w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    return data, sr


def piper_synth(tts: object) -> Synth:
    def synth(text: str, rng: random.Random) -> tuple[np.ndarray, int]:
        chunks = list(tts.synthesize_stream(text))  # type: ignore[attr-defined]
        sr = chunks[0].sample_rate_hz
        return np.frombuffer(b"".join(c.pcm16 for c in chunks), dtype=np.int16), sr

    return synth


def _silence(sr: int, seconds: float) -> np.ndarray:
    return np.zeros(int(sr * seconds), dtype=np.float32)


def make_clip(label: str, text: str, synth: Synth, rng: random.Random) -> Clip:
    speech, sr = synth(text, rng)
    x = speech.astype(np.float32)
    # trim the synthesizer's own leading/trailing silence, then add ours
    nz = np.flatnonzero(np.abs(x) > 300)
    x = x[nz[0] : nz[-1] + 1] if len(nz) else x
    x *= rng.uniform(0.3, 0.9) * 32767 / max(1.0, float(np.abs(x).max()))
    parts = [_silence(sr, rng.uniform(0.15, 0.9)), x]
    beep = False
    if label == "human":
        parts.append(_silence(sr, 4.0))  # the person waits for the caller to speak
    else:
        beep = rng.random() < 0.7
        parts.append(_silence(sr, rng.uniform(0.2, 0.6)))
        if beep:
            f = rng.choice([1000.0, 1400.0, 1800.0])
            t = np.arange(int(sr * rng.uniform(0.2, 0.5))) / sr
            parts.append(0.5 * 32767 * np.sin(2 * np.pi * f * t).astype(np.float32))
        parts.append(_silence(sr, 2.0))
    y = np.concatenate(parts)
    y += np.random.default_rng(rng.randint(0, 2**31)).normal(0, 40, len(y))
    return Clip(label, text, np.clip(y, -32768, 32767).astype(np.int16), sr, beep)


def make_clips(synth: Synth, *, per_text: int = 2, seed: int = 3) -> list[Clip]:
    rng = random.Random(seed)
    clips = [make_clip("human", t, synth, rng) for t in HUMAN for _ in range(per_text)]
    clips += [make_clip("machine", t, synth, rng) for t in MACHINE for _ in range(per_text)]
    return clips
