"""Digit recognition ("digits grammar"): Whisper as the acoustic model, digit words as output.

Why: when the bot collects a card number, a PIN or a menu choice it already knows the caller
says digits, yet free transcription of a short telephone turn often returns nothing, a
hallucinated "Thank you." or a word spelled so no normaliser recovers it (issue 4 measured ~53 %
on FSDD at 8 kHz μ-law). Contact centres answer this with a grammar; here the grammar constrains
the same Whisper model the live path already holds:

- **Scoring, not transcription.** The decoder's next-token distribution is read over every
  single-token spelling of each digit (" four", " Four", "4", " for", …, the homophones
  ``asr.numbers`` accepts) and the probabilities are summed per digit, so the model's doubt
  between "4" and "Four" never costs the digit. Everything else in the vocabulary is out of
  grammar; its share is reported as ``in_grammar`` so a caller can fall back to free speech.
- **Multi-digit utterances** ("4 5 3 2") decode with beam search restricted to digit tokens,
  separators ("," "." "-") and end-of-text (``suppress_tokens`` = the rest of the vocabulary),
  so the model can neither wander into words nor write "4532" as one multi-digit token. Per-digit
  confidence is the n-best posterior: the share of hypotheses (weighted by their likelihood) that
  agree with the best one at that position.
- **A digit-list context prompt** (``<|startofprev|> one, two, … zero``) tells the decoder that
  spoken digit words come next. It is the same for every utterance, so it does not leak the
  answer; on 150 FSDD clips it raised tiny.en's first-step digit accuracy from 0.91 to 0.97.
- **Raw likelihood in the beam** (``length_penalty=0``): with Whisper's length normalisation the
  beam liked to append a repeated digit ("3" → "33"); single clips read at any length went
  from 0.92 to 0.98 (60 clips).
- **Leading/trailing silence.** VAD-cut turns and FSDD clips start at the first phoneme and
  Whisper then tends to drop the first digit; 0.3 s of silence each side (``pad_s``) took
  joined-clip strings from 0.80 to 0.87 exact (30 strings; 0.6 s was worse). It costs nothing:
  the encoder always reads 30 s.
- **No digits rather than made-up digits.** Whisper's no-speech probability ≥ 0.6 (its own
  default) → ``rejected="no_speech"``; the digits' share of the first word's candidates below
  ``MIN_IN_GRAMMAR`` → ``"out_of_grammar"``. The decoder is also capped at 5 digits a second of
  audio, which bounds a run-on on noise.
- Measured (bench/asr_accuracy.py, tiny.en, 90 FSDD clips over 8 kHz μ-law, 3 speakers):
  0.978 (jackson 1.0, nicolas 0.933, theo 1.0) against 0.533 for plain transcription; joined
  2-6 digit strings 0.83 exact, 4.7 % digit errors. whisper-base is worse here (0.92, 0.47).
- Zero-shot: nothing is trained on FSDD. The handful of discrete choices above were compared on
  the three public FSDD speakers (nothing fitted), so their figures may be a little optimistic;
  the held-out speakers played no part. Known limits: on a noise-only turn (no VAD in front)
  it can still return a few digits, and on strings it sometimes drops the first digit (see
  bench/asr_accuracy.py).

The model is the process-wide ``WhisperModel`` of the given :class:`FasterWhisperSTT` (one
``Registry.shared`` entry), so the digit mode adds no second copy of the weights. All calls are
blocking; run them with ``asyncio.to_thread`` like any engine call.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from asr.errors import TranscriptionFailed
from asr.faster_whisper import WHISPER_RATE_HZ, FasterWhisperSTT, normalize_peak, pcm16_to_float
from asr.numbers import DIGIT_WORDS

# Spoken-order digit list used as the decoder's previous-text context (module docstring).
DIGIT_CONTEXT = "one, two, three, four, five, six, seven, eight, nine, zero"
SEPARATORS = (",", ".", "-", " -", " ,", "...", "!", "?")
MAX_DIGITS = 24  # a card number is 16-19, an account number rarely more
MAX_DIGITS_PER_S = 5  # fast readers say 3-4 digits a second
# Whisper's own no-speech threshold (faster-whisper's default), not tuned on FSDD
NO_SPEECH_THRESHOLD = 0.6
# Below this share of digit words among the first word's candidates the turn is a sentence,
# not digits. It is a coarse gate, set low on purpose: FSDD digits went as low as 0.04 (1 of
# 90 clips under 0.05, 5 under 0.25), Piper sentences measured 0.006 ("Hello, I would like to
# talk to an agent please."), 0.05 ("No."), 0.07 ("I don't know."), 0.31 ("Agent."). Callers
# that must catch digressions compare with the free transcript (see the pipeline notes).
MIN_IN_GRAMMAR = 0.02


@dataclass(frozen=True)
class DigitResult:
    """The digits heard, one confidence per digit, and how much of the speech was digits."""

    digits: str
    confidences: tuple[float, ...]
    in_grammar: float  # probability mass on digit words at the first step (low: not digits)
    text: str = ""  # the constrained decoder's raw text, for debugging
    rejected: str | None = None  # "no_speech" | "out_of_grammar": no digits, and why
    elapsed_ms: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def confidence(self) -> float:
        """The weakest digit's confidence (0.0 when nothing was heard)."""
        return min(self.confidences, default=0.0)


# -- grammar tables (pure; unit tested) -----------------------------------------------
def digit_token_table(encode: Callable[[str], list[int]]) -> dict[int, str]:
    """Token id → digit for every single-token spelling of a digit in this vocabulary.

    Spellings: the English words (and homophones) of ``asr.numbers.DIGIT_WORDS``, lower-case
    and capitalised, and the numerals, each with and without a leading space. Spellings that
    take more than one token are left out (the decoder could not finish them in one step).
    """
    words = [w for w in DIGIT_WORDS if w.isascii()] + list("0123456789")
    table: dict[int, str] = {}
    for word in words:
        digit = word if word.isdigit() else DIGIT_WORDS[word]
        for form in {word, word.capitalize()}:
            for text in (" " + form, form):
                ids = encode(text)
                if len(ids) == 1:
                    table.setdefault(ids[0], digit)
    return table


def separator_tokens(encode: Callable[[str], list[int]]) -> frozenset[int]:
    """Single-token punctuation Whisper writes between and after spoken digits."""
    out = set()
    for text in SEPARATORS:
        ids = encode(text)
        if len(ids) == 1:
            out.add(ids[0])
    return frozenset(out)


def digit_posteriors(
    logits: np.ndarray, table: dict[int, str], words: np.ndarray | None = None
) -> tuple[dict[str, float], float]:
    """Next-token logits → (P(digit | a digit is said) for 0-9, digit share of the words).

    Probabilities of all spellings of a digit are summed, then renormalised over the ten
    digits. The second value is the digits' share of the probability on word tokens
    (``words``: a boolean mask, see :func:`word_token_mask`), or of the whole vocabulary when
    no mask is given. Punctuation, brackets and end-of-text are no words: Whisper often puts
    much of a short clip's mass on " [" or " -" and that says nothing against digits.
    """
    x = np.asarray(logits, dtype=np.float64).ravel()
    p = np.exp(x - x.max())
    p /= p.sum()
    mass = dict.fromkeys("0123456789", 0.0)
    for token, digit in table.items():
        if token < p.size:
            mass[digit] += float(p[token])
    total = sum(mass.values())
    if total <= 0.0:
        return {d: 0.1 for d in mass}, 0.0
    said = float(p[: words.size][words[: p.size]].sum()) if words is not None else 1.0
    return {d: m / total for d, m in mass.items()}, min(1.0, total / max(said, total))


def word_token_mask(decode: Callable[[int], str], size: int) -> np.ndarray:
    """True for tokens that spell a word or number (a letter or a digit in them)."""
    return np.array([any(ch.isalnum() for ch in decode(t)) for t in range(size)], dtype=bool)


def digits_of(tokens: Iterable[int], table: dict[int, str]) -> str:
    """The digits spelled by a constrained decoder's token ids (separators are skipped)."""
    return "".join(table[t] for t in tokens if t in table)


def nbest_confidences(hypotheses: Sequence[tuple[str, float]]) -> tuple[float, ...]:
    """Per-digit confidence of the best hypothesis from an n-best list of (digits, log-score).

    Each hypothesis gets the softmax weight of its score; a digit's confidence is the total
    weight of hypotheses that have the same digit at that position. Hypotheses that differ only
    in punctuation agree, so they reinforce each other.
    """
    if not hypotheses:
        return ()
    best = hypotheses[0][0]
    top = max(score for _, score in hypotheses)
    weights = [math.exp(score - top) for _, score in hypotheses]
    total = sum(weights)
    return tuple(
        round(
            sum(
                w
                for (d, _), w in zip(hypotheses, weights, strict=True)
                if i < len(d) and d[i] == ch
            )
            / total,
            4,
        )
        for i, ch in enumerate(best)
    )


# -- recogniser -----------------------------------------------------------------------
@dataclass
class _Grammar:
    prompt: list[int]  # <|startofprev|> context + start-of-transcript sequence
    table: dict[int, str]
    keep: frozenset[int]  # digit spellings, separators and end-of-text
    eot: int
    words: np.ndarray  # text tokens that spell a word or a number (see digit_posteriors)
    _suppress: dict[int, list[int]] = field(default_factory=dict)

    def suppress(self, vocab_size: int) -> list[int]:
        """Every token id of the model's output layer outside the grammar (timestamps too)."""
        if vocab_size not in self._suppress:
            self._suppress[vocab_size] = [t for t in range(vocab_size) if t not in self.keep]
        return self._suppress[vocab_size]


class DigitRecognizer:
    """Recognise spoken digits with the engine's Whisper model under a digits grammar.

    ``recognize(pcm16_16k)`` handles one digit (menu choice) or many (card/account number).
    Pass ``max_digits=1`` when exactly one digit is expected: it then reads only the first
    decoder step (no beam search; the same accuracy on single clips within noise, 0.967 vs
    0.978 on the bench's 90 FSDD clips, and a little faster).
    """

    def __init__(
        self,
        engine: FasterWhisperSTT,
        *,
        beam_size: int = 5,
        max_digits: int = MAX_DIGITS,
        context: str | None = DIGIT_CONTEXT,
        pad_s: float = 0.3,
        normalize_gain: bool = True,
        length_penalty: float = 0.0,
        no_speech_threshold: float = NO_SPEECH_THRESHOLD,
        min_in_grammar: float = MIN_IN_GRAMMAR,
    ) -> None:
        self.engine = engine
        self.beam_size = beam_size
        self.max_digits = max_digits
        self.context = context
        self.pad_s = pad_s
        self.normalize_gain = normalize_gain
        self.length_penalty = length_penalty
        self.no_speech_threshold = no_speech_threshold
        self.min_in_grammar = min_in_grammar
        self._grammar: _Grammar | None = None
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return self.engine.model_name

    def _build_grammar(self, model: Any) -> _Grammar:
        from faster_whisper.tokenizer import Tokenizer

        hf = model.hf_tokenizer
        tok = Tokenizer(hf, model.model.is_multilingual, task="transcribe", language="en")

        def encode(text: str) -> list[int]:
            return hf.encode(text, add_special_tokens=False).ids

        table = digit_token_table(encode)
        context = [tok.sot_prev, *encode(" " + self.context)] if self.context else []
        return _Grammar(
            prompt=[*context, *tok.sot_sequence, tok.no_timestamps],
            table=table,
            keep=frozenset(table) | separator_tokens(encode) | {tok.eot},
            eot=tok.eot,
            words=word_token_mask(lambda t: hf.decode([t]), tok.eot),
        )

    def grammar(self) -> _Grammar:
        if self._grammar is None:
            with self._lock:
                if self._grammar is None:
                    self._grammar = self._build_grammar(self.engine.model)
        return self._grammar

    def warm_up(self) -> None:
        """Load the shared model, build the grammar tables and decode 0.5 s of silence."""
        self.recognize(b"\x00\x00" * (WHISPER_RATE_HZ // 2))

    def _features(self, pcm16_16k: bytes) -> np.ndarray:
        audio = pcm16_to_float(pcm16_16k, WHISPER_RATE_HZ)
        if self.normalize_gain:
            audio = normalize_peak(audio)
        pad = np.zeros(int(self.pad_s * WHISPER_RATE_HZ), dtype=np.float32)
        return np.concatenate([pad, audio, pad])

    def recognize(self, pcm16_16k: bytes, *, max_digits: int | None = None) -> DigitResult:
        """Digits said in one utterance (PCM16 mono at 16 kHz; blocking).

        Returns no digits (and says why in ``rejected``) when Whisper reads the turn as
        silence or when most of the first word's probability is on words that are not digits
        ("I don't know", "agent"): the caller re-prompts or falls back to free transcription.
        """
        from faster_whisper.audio import pad_or_trim

        t0 = time.perf_counter()
        duration_s = len(pcm16_16k) / 2 / WHISPER_RATE_HZ
        # nobody says more than MAX_DIGITS_PER_S digits a second: bounds a decoder run-on
        limit = min(max_digits or self.max_digits, MAX_DIGITS * 2)
        limit = max(1, min(limit, math.ceil(duration_s * MAX_DIGITS_PER_S)))
        model = self.engine.model
        g = self.grammar()
        audio = self._features(pcm16_16k)
        extra: dict[str, Any] = {"model": self.model_name}
        try:
            encoded = model.encode(pad_or_trim(model.feature_extractor(audio)))
            first = model.model.generate(
                encoded,
                [g.prompt],
                beam_size=1,
                max_length=len(g.prompt) + 1,  # CTranslate2 counts the prompt
                return_logits_vocab=True,
                return_no_speech_prob=True,
                suppress_blank=False,
                suppress_tokens=[],
            )[0]
            # row 0: logits of the first decoding step over the whole output layer
            step = np.asarray(first.logits[0], dtype=np.float32)
            step = step.reshape(-1, step.shape[-1])[0]
            # text tokens and end-of-text only: timestamps and task tokens are not speech
            posteriors, in_grammar = digit_posteriors(step[: g.eot + 1], g.table, g.words)
            no_speech = float(first.no_speech_prob)
            extra["no_speech_prob"] = round(no_speech, 4)
            rejected = (
                "no_speech"
                if no_speech >= self.no_speech_threshold
                else "out_of_grammar"
                if in_grammar < self.min_in_grammar
                else None
            )
            if rejected:
                digits, confidences, text = "", (), ""
            elif limit == 1:
                digit = max(posteriors, key=posteriors.__getitem__)
                digits, confidences, text = digit, (round(posteriors[digit], 4),), ""
            else:
                results = model.model.generate(
                    encoded,
                    [g.prompt],
                    beam_size=self.beam_size,
                    num_hypotheses=self.beam_size,
                    max_length=min(len(g.prompt) + 2 * limit + 2, 448),
                    length_penalty=self.length_penalty,
                    return_scores=True,
                    suppress_blank=False,
                    suppress_tokens=g.suppress(step.size),
                )[0]
                hyps = [
                    (digits_of(ids, g.table)[:limit], float(score))
                    for ids, score in zip(results.sequences_ids, results.scores, strict=True)
                ]
                digits = hyps[0][0]
                confidences = nbest_confidences(hyps)
                text = model.hf_tokenizer.decode(results.sequences_ids[0]).strip()
                extra["nbest"] = [d for d, _ in hyps]
        except (RuntimeError, ValueError) as e:
            raise TranscriptionFailed(f"{self.model_name} (digits): {e}") from e
        return DigitResult(
            digits=digits,
            confidences=confidences,
            in_grammar=round(in_grammar, 4),
            text=text,
            rejected=rejected,
            elapsed_ms=(time.perf_counter() - t0) * 1000,
            extra=extra,
        )
