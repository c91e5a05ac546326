"""Mandarin TTS quality: how well our ASR reads back what each Mandarin voice says.

For each candidate voice, 20 contact-centre sentences (greetings, cards, balances, amounts
and dates, some written with Arabic numerals) are synthesized and transcribed by whisper-base
(language fixed to ``zh``, beam 1, the live-turn settings); the character error rate against
the text is the intelligibility figure (lower is better). Numerals on either side are
compared as Chinese numerals; Whisper's occasional Traditional characters count as errors.
Also per voice: time to first chunk (the first sentence piece, what a caller waits for) and
real-time factor (synthesis time / audio time).

Candidates (``voice@speed``): Kokoro-82M int8 with each speaker pack on PyPI (Japanese
``jf_*``/``jm_kumo`` reading misaki's Mandarin phonemes; ``a+b`` blends packs) and eSpeak NG
``cmn-latn-pinyin`` (the previous voice) as the baseline. The result's ``ratio`` compares the
default voice (``tts.kokoro.DEFAULT_VOICE`` at ``DEFAULT_SPEED``) with eSpeak.

Run: ``python -m bench.tts_quality`` (or, once registered in ``cli.BENCHMARKS``,
``hotline bench tts -p voices='["jm_kumo@0.9"]'``). Speed figures depend on load: this
machine has 2 cores shared with other engineers' jobs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

from asr.faster_whisper import FasterWhisperSTT
from bench.asr_accuracy import edit_distance
from bench.report import finish
from models import CATALOG, Registry
from tts.kokoro import DEFAULT_SPEED, DEFAULT_VOICE, KokoroTTS

NAME = "tts_quality"
REPO = Path(__file__).resolve().parents[1]
DEFAULT = f"{DEFAULT_VOICE}@{DEFAULT_SPEED}"
# speaker pack @ speed; the first is the product default
KOKORO_VOICES = (
    DEFAULT,
    f"{DEFAULT_VOICE}@1.0",
    f"{DEFAULT_VOICE}@0.8",
    "jf_gongitsune@0.9",
    "jf_alpha@0.9",
    "jf_nezumi@0.9",
    "jf_tebukuro@0.9",
)

ZH_SENTENCES = (
    "您好，请问有什么可以帮您？",
    "我的银行卡丢了。",
    "请问您的手机号码是多少？",
    "您的账户余额是三千五百元。",
    "我想查询一下我的账户余额。",
    "您的订单已经发货了，预计明天送达。",
    "请稍等，我帮您转接人工客服。",
    "我要投诉，你们的服务太慢了。",
    "请您输入六位数字的密码。",
    "感谢您的来电，祝您生活愉快。",
    "您的还款日是每月十五号。",
    "这笔交易的金额是128元。",
    "我想修改我的收货地址。",
    "请问您是本人吗？",
    "您的信用卡已经冻结了。",
    "我们会在3个工作日内给您回复。",
    "请问还有其他问题吗？",
    "我昨天在网上买了一台电脑。",
    "您的快递在下午两点到达。",
    "好的，已经为您办理好了。",
)

_DIGITS = "零一二三四五六七八九"


def hanzi(text: str) -> list[str]:
    """Characters that count for CER: Han characters, digits as Chinese numerals."""
    text = re.sub(r"\d+", lambda m: _number_hanzi(m.group()), text)
    return re.findall(r"[\u4e00-\u9fff]", text)


def _number_hanzi(digits: str) -> str:
    """Integers as read aloud (128 → 一百二十八); long digit strings digit by digit."""
    n = int(digits)
    if len(digits) > 4 or (digits.startswith("0") and len(digits) > 1):
        return "".join(_DIGITS[int(d)] for d in digits)
    if n < 10:
        return _DIGITS[n]
    out = ""
    for value, unit in ((1000, "千"), (100, "百"), (10, "十")):
        q, n = divmod(n, value)
        if q:
            out += ("" if (unit == "十" and q == 1 and not out) else _DIGITS[q]) + unit
        elif out and n:
            out += "零" if not out.endswith("零") else ""
    return out + (_DIGITS[n] if n else "")


def cer(refs: list[str], hyps: list[str]) -> float:
    errors = sum(edit_distance(hanzi(r), hanzi(h)) for r, h in zip(refs, hyps, strict=True))
    return errors / max(sum(len(hanzi(r)) for r in refs), 1)


def measure_voice(engine: Any, asr: FasterWhisperSTT, sentences: tuple[str, ...]) -> dict:
    """CER of ``asr`` reading back ``engine``'s speech, time to first chunk, real-time factor."""
    first_ms: list[float] = []
    synth_s = audio_s = 0.0
    hyps: list[str] = []
    for text in sentences:
        t0 = time.perf_counter()
        first = None
        pcm = b""
        rate = engine.capabilities.sample_rate_hz
        for chunk in engine.synthesize_stream(text, language="zh"):
            if first is None:
                first = time.perf_counter() - t0
            pcm += chunk.pcm16
            rate = chunk.sample_rate_hz
        synth_s += time.perf_counter() - t0
        audio_s += len(pcm) / 2 / rate
        first_ms.append((first or 0.0) * 1000)
        hyps.append(asr.transcribe_sync(pcm, sample_rate_hz=rate, language="zh").text)
    return {
        "cer": round(cer(list(sentences), hyps), 4),
        "ttfc_p50_ms": round(statistics.median(first_ms), 1),
        "ttfc_max_ms": round(max(first_ms), 1),
        "rtf": round(synth_s / max(audio_s, 1e-9), 4),
        "audio_s": round(audio_s, 1),
        "samples": [{"ref": r, "hyp": h} for r, h in zip(sentences[:5], hyps[:5], strict=True)],
    }


def run(
    *,
    voices: list[str] | tuple[str, ...] = KOKORO_VOICES,
    sentences: int = len(ZH_SENTENCES),
    espeak: bool = True,
    cpu_threads: int = 2,
    models_dir: str | None = None,
    write: bool = True,
) -> dict:
    """Measure every candidate; returns the envelope and writes bench/results/tts_quality.json."""
    texts = ZH_SENTENCES[:sentences]
    registry = Registry(
        CATALOG, models_dir=Path(models_dir) if models_dir else REPO / "var" / "models"
    )
    asr = FasterWhisperSTT(registry, model="whisper-base", beam_size=1)
    asr.warm_up()
    t_start = time.perf_counter()
    metrics: dict[str, Any] = {}
    for spec in voices:
        voice, _, speed = spec.partition("@")
        engine = KokoroTTS(
            registry, voice=voice, speed=float(speed or DEFAULT_SPEED), cpu_threads=cpu_threads
        )
        engine.warm_up()
        metrics[f"kokoro:{voice}@{engine.speed}"] = measure_voice(engine, asr, texts)
    if espeak and shutil.which("espeak-ng"):
        from tts.espeak import EspeakNgTTS

        metrics["espeak-ng:cmn-latn-pinyin"] = measure_voice(EspeakNgTTS(), asr, texts)
    default = metrics.get(f"kokoro:{DEFAULT}")
    base = metrics.get("espeak-ng:cmn-latn-pinyin")
    result = {
        "params": {
            "sentences": len(texts),
            "voices": list(voices),
            "asr_model": "whisper-base",
            "asr_language": "zh",
            "asr_beam_size": 1,
            "tts_cpu_threads": cpu_threads,
        },
        "metrics": metrics,
        "baseline": {
            "what": "eSpeak NG cmn-latn-pinyin (the previous Mandarin voice)",
            **(
                {"cer": base["cer"], "ttfc_p50_ms": base["ttfc_p50_ms"], "rtf": base["rtf"]}
                if base
                else {}
            ),
        },
        "ratio": {
            "cer_default_vs_espeak": (
                round(default["cer"] / base["cer"], 4) if default and base and base["cer"] else None
            )
        },
        "wall_s": round(time.perf_counter() - t_start, 1),
        "load_avg_1m": os.getloadavg()[0],
        "note": "2-core machine shared with other engineers' jobs: speed figures under contention",
    }
    return finish(NAME, result, write=write)


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False, indent=2))
