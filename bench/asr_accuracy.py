"""ASR/TTS accuracy and speed on real audio with the real models (issue 4 measurements).

Measures, in one run:
- WER on the recorded English clip(s) in shared/data/speech_clips (tiny.en and base);
- spoken-digit accuracy on FSDD at 8 kHz sent through G.711 μ-law (the telephone path),
  per speaker and overall: the digits grammar (``asr.digits.DigitRecognizer``, tiny.en and
  base, any length and ``max_digits=1``) next to plain transcription normalised with
  ``asr.numbers.spoken_digits`` (the baseline; the old digit-prompt variant only with
  ``fsdd_prompted=True``, it runs on for ~14 s a clip). The grammar is zero-shot: nothing is
  trained or tuned per FSDD speaker, so all three speakers are unseen by the model;
- multi-digit utterances: 2-6 FSDD clips of one speaker joined with 0.1-0.3 s silences, sent
  through μ-law, read by the digits grammar (sequence accuracy and digit error rate);
- Mandarin CER: call-center sentences spoken by our Mandarin voice (eSpeak NG) and read back
  by whisper-base (fixed ``zh`` and auto-detect), plus how often auto-detect says ``zh``;
- ASR real-time factor (tiny.en, base; beam 1) on Piper-spoken English turns;
- TTS time to first chunk and real-time factor (Piper joe, eSpeak NG Mandarin, phrase cache).

Run: ``python -m bench.asr_accuracy`` (or ``hotline bench asr_accuracy``). Figures depend on
machine load; this machine has 2 cores shared with other work.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import shutil
import statistics
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from asr.audio_io import decode_bytes, decode_file
from asr.digits import DigitRecognizer
from asr.faster_whisper import FasterWhisperSTT
from asr.numbers import DIGITS_PROMPT, spoken_digits
from bench.report import finish
from models import CATALOG, Registry
from tts.phrase_cache import PhraseCache
from tts.piper import PiperTTS

NAME = "asr_accuracy"
REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("HOTLINE_SHARED_DATA", REPO.parent / "shared" / "data"))

ZH_SENTENCES = (
    "您好，欢迎致电客户服务中心。",
    "请问您需要办理什么业务？",
    "我想查询一下我的账户余额。",
    "您的订单已经发货了，预计明天送达。",
    "请稍等，我帮您转接人工客服。",
    "我的信用卡丢了，需要挂失。",
    "请问您的手机号码是多少？",
    "感谢您的来电，祝您生活愉快。",
    "我要投诉，你们的服务太慢了。",
    "请您输入六位数字的密码。",
)
EN_TURNS = (
    "Hi, I would like to check the balance on my savings account.",
    "My card was declined at the store this morning.",
    "Can you tell me when my package will arrive?",
    "I need to change the address on my account.",
    "Please transfer me to someone in billing.",
)
_NUMBER_WORDS = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Levenshtein distance between two token lists (words for WER, characters for CER)."""
    row = list(range(len(hyp) + 1))
    for i in range(1, len(ref) + 1):
        prev, row[0] = row[0], i
        for j in range(1, len(hyp) + 1):
            prev, row[j] = (
                row[j],
                min(row[j] + 1, row[j - 1] + 1, prev + (ref[i - 1] != hyp[j - 1])),
            )
    return row[len(hyp)]


def _words(text: str) -> list[str]:
    """Lower-case words without punctuation; number words and numerals become single digits."""
    out: list[str] = []
    for tok in re.findall(r"[a-z']+|\d+", text.lower()):
        if tok.isdigit():
            out.extend(tok)
        else:
            out.append(_NUMBER_WORDS.get(tok, tok))
    return out


def _hanzi(text: str) -> list[str]:
    return re.findall(r"[\u4e00-\u9fff0-9a-z]", text.lower())


def _ulaw_16k(path: Path) -> bytes:
    """FSDD clip → 8 kHz μ-law WAV bytes → our decoder → 16 kHz PCM16 (the phone path)."""
    audio, rate = sf.read(path, dtype="int16")
    return _ulaw_16k_samples(audio, rate, path.name)


def _ulaw_16k_samples(audio: np.ndarray, rate: int, name: str) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, audio, rate, format="WAV", subtype="ULAW")
    return decode_bytes(buf.getvalue(), name=name).pcm16


def _speech_clips(engines: dict[str, FasterWhisperSTT]) -> dict[str, Any]:
    tsv = DATA / "speech_clips" / "transcripts.tsv"
    if not tsv.is_file():
        return {"skipped": f"{tsv} absent"}
    rows = [line.split("\t") for line in tsv.read_text().splitlines()[1:] if line.strip()]
    out: dict[str, Any] = {"clips": len(rows)}
    for name, engine in engines.items():
        errors = words = 0
        hyps = []
        for file, lang, ref, *_ in rows:
            audio = decode_file(DATA / "speech_clips" / file)
            tr = engine.transcribe_sync(audio.pcm16, sample_rate_hz=16_000, language=lang)
            errors += edit_distance(_words(ref), _words(tr.text))
            words += len(_words(ref))
            hyps.append(tr.text)
        out[f"wer_{name}"] = round(errors / max(words, 1), 4)
        out[f"hyp_{name}"] = hyps
    return out


def _fsdd_groups() -> dict[tuple[str, str], list[Path]] | None:
    rec = DATA / "fsdd" / "recordings"
    if not rec.is_dir():
        return None
    groups: dict[tuple[str, str], list[Path]] = defaultdict(list)
    for p in sorted(rec.glob("*.wav")):
        digit, speaker, _ = p.stem.split("_")
        groups[(digit, speaker)].append(p)
    return groups


def _fsdd(
    engines: dict[str, FasterWhisperSTT],
    recognizers: dict[str, DigitRecognizer],
    per_digit_speaker: int,
    seed: int,
    prompted: bool = False,
) -> dict[str, Any]:
    groups = _fsdd_groups()
    if groups is None:
        return {"skipped": f"{DATA / 'fsdd' / 'recordings'} absent"}
    rng = random.Random(seed)
    picked = [
        p
        for key in sorted(groups)
        for p in rng.sample(groups[key], min(per_digit_speaker, len(groups[key])))
    ]
    # variant → callable(pcm16 at 16 kHz) → (digits heard, text for the error list)
    variants: dict[str, Any] = {}
    for name, rec in recognizers.items():
        variants[f"{name}_digits"] = lambda pcm, r=rec: _digits(r.recognize(pcm))
        variants[f"{name}_digits_one"] = lambda pcm, r=rec: _digits(r.recognize(pcm, max_digits=1))
    for name, engine in engines.items():
        variants[f"{name}_no_prompt"] = lambda pcm, e=engine: _plain(e, pcm, None)
    if prompted:
        variants["tiny_en_prompted"] = lambda pcm: _plain(engines["tiny_en"], pcm, DIGITS_PROMPT)
    correct: dict[str, dict[str, int]] = {v: defaultdict(int) for v in variants}
    elapsed: dict[str, float] = defaultdict(float)
    total: dict[str, int] = defaultdict(int)
    confusions: dict[str, list[str]] = defaultdict(list)
    for p in picked:
        digit, speaker, _ = p.stem.split("_")
        pcm = _ulaw_16k(p)
        total[speaker] += 1
        for variant, fn in variants.items():
            t0 = time.perf_counter()
            heard, text = fn(pcm)
            elapsed[variant] += time.perf_counter() - t0
            # plain transcription: the first digit said is the answer (a prompted decoder runs
            # on into the prompt's sequence); the digits grammar must say exactly one digit
            ok = (
                heard[:1] == digit
                if variant.endswith(("no_prompt", "prompted"))
                else heard == digit
            )
            if ok:
                correct[variant][speaker] += 1
            elif len(confusions[variant]) < 8:
                confusions[variant].append(f"{p.name}: {text!r}")
    n = sum(total.values())
    out: dict[str, Any] = {"clips": n, "clips_per_digit_speaker": per_digit_speaker}
    for variant in variants:
        out[f"accuracy_{variant}"] = round(sum(correct[variant].values()) / n, 4)
        out[f"accuracy_{variant}_by_speaker"] = {
            s: round(correct[variant][s] / total[s], 4) for s in sorted(total)
        }
        out[f"mean_ms_{variant}"] = round(elapsed[variant] / n * 1000, 1)
    out["errors"] = dict(confusions)
    return out


def _digits(result: Any) -> tuple[str, str]:
    conf = ",".join(f"{c:.2f}" for c in result.confidences)
    return result.digits, f"{result.digits} [{conf}] {result.text}"


def _plain(engine: FasterWhisperSTT, pcm: bytes, prompt: str | None) -> tuple[str, str]:
    tr = engine.transcribe_sync(pcm, sample_rate_hz=16_000, language="en", prompt=prompt)
    return spoken_digits(tr.text), tr.text


def _fsdd_multi(
    recognizers: dict[str, DigitRecognizer], per_speaker: int, seed: int
) -> dict[str, Any]:
    """Digit strings: 2-6 clips of one speaker joined by 0.1-0.3 s of silence, over μ-law."""
    groups = _fsdd_groups()
    if groups is None:
        return {"skipped": f"{DATA / 'fsdd' / 'recordings'} absent"}
    by_speaker: dict[str, list[Path]] = defaultdict(list)
    for (_, speaker), paths in sorted(groups.items()):
        by_speaker[speaker].extend(paths)
    rng = random.Random(seed)
    utterances = []
    for speaker in sorted(by_speaker):
        for _ in range(per_speaker):
            clips = rng.sample(by_speaker[speaker], rng.randint(2, 6))
            parts = []
            for p in clips:
                audio, rate = sf.read(p, dtype="int16")
                parts += [audio, np.zeros(int(rate * rng.uniform(0.1, 0.3)), dtype=np.int16)]
            pcm = _ulaw_16k_samples(np.concatenate(parts[:-1]), rate, speaker)
            utterances.append((speaker, "".join(p.name[0] for p in clips), pcm))
    out: dict[str, Any] = {
        "utterances": len(utterances),
        "digits": sum(len(ref) for _, ref, _ in utterances),
    }
    for name, rec in recognizers.items():
        exact: dict[str, int] = defaultdict(int)
        edits: dict[str, int] = defaultdict(int)
        ref_digits: dict[str, int] = defaultdict(int)
        errors = []
        elapsed = 0.0
        for speaker, ref, pcm in utterances:
            t0 = time.perf_counter()
            result = rec.recognize(pcm)
            elapsed += time.perf_counter() - t0
            exact[speaker] += result.digits == ref
            edits[speaker] += edit_distance(list(ref), list(result.digits))
            ref_digits[speaker] += len(ref)
            if result.digits != ref and len(errors) < 8:
                errors.append(f"{ref} → {_digits(result)[1]}")
        n = len(utterances)
        speakers = sorted(ref_digits)
        out[f"sequence_accuracy_{name}"] = round(sum(exact.values()) / n, 4)
        out[f"sequence_accuracy_{name}_by_speaker"] = {
            s: round(exact[s] / per_speaker, 4) for s in speakers
        }
        out[f"digit_error_rate_{name}"] = round(sum(edits.values()) / sum(ref_digits.values()), 4)
        out[f"digit_error_rate_{name}_by_speaker"] = {
            s: round(edits[s] / ref_digits[s], 4) for s in speakers
        }
        out[f"mean_ms_{name}"] = round(elapsed / n * 1000, 1)
        out[f"errors_{name}"] = errors
    return out


def _mandarin(engine: FasterWhisperSTT, sentences: tuple[str, ...]) -> dict[str, Any]:
    if shutil.which("espeak-ng") is None:
        return {"skipped": "espeak-ng not installed (apt-get install espeak-ng)"}
    from tts.espeak import EspeakNgTTS

    voice = EspeakNgTTS()
    err = {"fixed_zh": 0, "auto": 0}
    chars = 0
    detected_zh = 0
    samples = []
    for s in sentences:
        chunks = list(voice.synthesize_stream(s, language="zh"))
        pcm, rate = b"".join(c.pcm16 for c in chunks), chunks[0].sample_rate_hz
        fixed = engine.transcribe_sync(pcm, sample_rate_hz=rate, language="zh")
        auto = engine.transcribe_sync(pcm, sample_rate_hz=rate, language=None)
        ref = _hanzi(s)
        chars += len(ref)
        err["fixed_zh"] += edit_distance(ref, _hanzi(fixed.text))
        err["auto"] += edit_distance(ref, _hanzi(auto.text))
        detected_zh += auto.language == "zh"
        samples.append({"ref": s, "hyp": fixed.text})
    return {
        "sentences": len(sentences),
        "voice": voice.voice_name,
        "asr_model": engine.model_name,
        "cer_fixed_zh": round(err["fixed_zh"] / chars, 4),
        "cer_auto": round(err["auto"] / chars, 4),
        "auto_detected_zh_share": round(detected_zh / len(sentences), 4),
        "samples": samples[:5],
    }


def _asr_speed(
    engines: dict[str, FasterWhisperSTT], turns: list[tuple[bytes, int, str]]
) -> dict[str, Any]:
    out: dict[str, Any] = {"turns": len(turns)}
    for name, engine in engines.items():
        elapsed = audio_s = 0.0
        errors = words = 0
        for pcm, rate, ref in turns:
            t0 = time.perf_counter()
            tr = engine.transcribe_sync(pcm, sample_rate_hz=rate, language="en", beam_size=1)
            elapsed += time.perf_counter() - t0
            audio_s += tr.duration_s
            errors += edit_distance(_words(ref), _words(tr.text))
            words += len(_words(ref))
        out[f"rtf_{name}"] = round(elapsed / audio_s, 4)
        out[f"mean_turn_ms_{name}"] = round(elapsed / len(turns) * 1000, 1)
        out[f"wer_tts_turns_{name}"] = round(errors / words, 4)
    out["mean_turn_audio_s"] = round(audio_s / len(turns), 2)
    return out


def _tts_speed(engine: Any, texts: tuple[str, ...], language: str) -> dict[str, Any]:
    first_ms: list[float] = []
    elapsed = audio_s = 0.0
    for text in texts:
        t0 = time.perf_counter()
        first = None
        n_bytes = 0
        rate = engine.capabilities.sample_rate_hz
        for chunk in engine.synthesize_stream(text, language=language):
            if first is None:
                first = time.perf_counter() - t0
            n_bytes += len(chunk.pcm16)
            rate = chunk.sample_rate_hz
        elapsed += time.perf_counter() - t0
        audio_s += n_bytes / 2 / rate
        first_ms.append((first or 0.0) * 1000)
    return {
        "ttfc_p50_ms": round(statistics.median(first_ms), 1),
        "ttfc_max_ms": round(max(first_ms), 1),
        "rtf": round(elapsed / audio_s, 4),
    }


def run(
    *,
    fsdd_per_digit_speaker: int = 3,
    fsdd_multi_per_speaker: int = 10,
    fsdd_prompted: bool = False,
    zh_sentences: int = len(ZH_SENTENCES),
    seed: int = 0,
    models_dir: str | None = None,
    write: bool = True,
) -> dict:
    """Run every measurement; returns the result dict and writes bench/results/asr_accuracy.json."""
    params = {
        "fsdd_per_digit_speaker": fsdd_per_digit_speaker,
        "fsdd_multi_per_speaker": fsdd_multi_per_speaker,
        "fsdd_prompted": fsdd_prompted,
        "digits_grammar": "asr.digits.DigitRecognizer defaults (beam 5, context prompt, 0.3 s pad)",
        "zh_sentences": zh_sentences,
        "seed": seed,
        "compute_type": "int8",
        "cpu_threads": 2,
        "beam_size": 1,
    }
    registry = Registry(
        CATALOG, models_dir=Path(models_dir) if models_dir else REPO / "var" / "models"
    )
    tiny = FasterWhisperSTT(registry, model="whisper-tiny-en")
    base = FasterWhisperSTT(registry, model="whisper-base")
    piper = PiperTTS(registry, steady=True)
    recognizers = {"tiny_en": DigitRecognizer(tiny), "base": DigitRecognizer(base)}
    for warm in (tiny, base, piper, *recognizers.values()):
        warm.warm_up()
    t_start = time.perf_counter()
    engines = {"tiny_en": tiny, "base": base}
    metrics: dict[str, Any] = {"speech_clips": _speech_clips(engines)}
    metrics["fsdd_8k_ulaw"] = _fsdd(
        engines, recognizers, fsdd_per_digit_speaker, seed, prompted=fsdd_prompted
    )
    metrics["fsdd_8k_ulaw_multi_digit"] = _fsdd_multi(recognizers, fsdd_multi_per_speaker, seed)
    metrics["mandarin"] = _mandarin(base, ZH_SENTENCES[:zh_sentences])
    turns = []
    for text in EN_TURNS:
        chunks = list(piper.synthesize_stream(text))
        turns.append((b"".join(c.pcm16 for c in chunks), chunks[0].sample_rate_hz, text))
    metrics["asr_speed"] = _asr_speed(engines, turns)
    tts: dict[str, Any] = {"piper_joe": _tts_speed(piper, EN_TURNS, "en")}
    cache = PhraseCache(piper)
    cache.warm(EN_TURNS, language="en")
    tts["piper_joe_phrase_cache_hit"] = _tts_speed(cache, EN_TURNS, "en")
    if shutil.which("espeak-ng"):
        from tts.espeak import EspeakNgTTS

        tts["espeak_ng_cmn"] = _tts_speed(EspeakNgTTS(), ZH_SENTENCES[:zh_sentences], "zh")
    metrics["tts_speed"] = tts
    fsdd = metrics["fsdd_8k_ulaw"]
    result = {
        "params": params,
        "metrics": metrics,
        "baseline": {
            "what": "same tiny.en model on FSDD, plain transcription + spoken_digits",
            "fsdd_accuracy": fsdd.get("accuracy_tiny_en_no_prompt"),
        },
        "ratio": {
            "fsdd_accuracy_digits_grammar_vs_baseline": (
                round(fsdd["accuracy_tiny_en_digits"] / fsdd["accuracy_tiny_en_no_prompt"], 4)
                if fsdd.get("accuracy_tiny_en_no_prompt")
                else None
            )
        },
        "wall_s": round(time.perf_counter() - t_start, 1),
        "load_avg_1m": os.getloadavg()[0],
        "note": "2-core machine shared with other engineers' jobs: speed figures under contention",
    }
    return finish(NAME, result, write=write)


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False, indent=2))
