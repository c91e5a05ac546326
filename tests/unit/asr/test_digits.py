"""Digits grammar without a model: spelling tables, candidate scoring, n-best confidences, and
the recogniser's decoding steps against a fake CTranslate2 Whisper on the real tokenizer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from asr.digits import (
    DigitRecognizer,
    DigitResult,
    digit_posteriors,
    digit_token_table,
    digits_of,
    nbest_confidences,
    separator_tokens,
    word_token_mask,
)
from asr.errors import TranscriptionFailed
from models import CATALOG, Registry

# a toy vocabulary: one token per listed string, anything else takes two tokens
TOY = {
    " zero": 1, " Zero": 2, " oh": 3, "0": 4, " one": 5, " One": 6, "1": 7, " won": 8,
    " two": 9, " to": 10, "2": 11, " three": 12, "3": 13, " four": 14, " Four": 15, "4": 16,
    " for": 17, " five": 18, "5": 19, " six": 20, "6": 21, " seven": 22, "7": 23,
    " eight": 24, "8": 25, " nine": 26, "9": 27, ",": 28, ".": 29, " hello": 30,
}  # fmt: skip
VOCAB = 64


def toy_encode(text: str) -> list[int]:
    return [TOY[text]] if text in TOY else [40, 41 + len(text) % 20]


def logits_for(probs: dict[int, float]) -> np.ndarray:
    p = np.full(VOCAB, 1e-9)
    for token, value in probs.items():
        p[token] = value
    return np.log(p / p.sum())


# -- tables -----------------------------------------------------------------------------
def test_table_maps_every_single_token_spelling_to_its_digit() -> None:
    table = digit_token_table(toy_encode)
    assert {t: d for t, d in table.items() if d == "4"} == {14: "4", 15: "4", 16: "4", 17: "4"}
    assert table[3] == "0" and table[8] == "1" and table[10] == "2"  # oh, won, to
    assert 30 not in table and 28 not in table
    assert sorted(set(table.values())) == list("0123456789")


def test_multi_token_spellings_are_left_out() -> None:
    table = digit_token_table(toy_encode)
    assert all(token < 40 for token in table)  # " Three" (not in TOY) is several tokens


def test_separators_are_single_punctuation_tokens() -> None:
    assert separator_tokens(toy_encode) == {28, 29}


# -- candidate scoring ------------------------------------------------------------------
def test_spellings_of_one_digit_are_summed_before_choosing() -> None:
    # " five" is the single likeliest token, but "four" said three ways outweighs it
    table = digit_token_table(toy_encode)
    post, mass = digit_posteriors(
        logits_for({18: 0.3, 14: 0.2, 15: 0.15, 16: 0.15, 30: 0.2}), table
    )
    assert max(post, key=post.__getitem__) == "4"
    assert post["4"] == pytest.approx(0.5 / 0.8, abs=1e-6)  # renormalised over the digits
    assert sum(post.values()) == pytest.approx(1.0)
    assert mass == pytest.approx(0.8, abs=1e-6)


def test_out_of_grammar_speech_shows_as_low_digit_mass() -> None:
    table = digit_token_table(toy_encode)
    _, mass = digit_posteriors(logits_for({30: 0.97, 5: 0.03}), table)
    assert mass < 0.05


def test_digit_share_counts_only_word_tokens() -> None:
    table = digit_token_table(toy_encode)
    words = word_token_mask(lambda t: "[" if t == 31 else "w", VOCAB)
    assert not words[31] and words[30]
    # half the mass on " [" (31) says nothing: digits hold 0.3 of the 0.5 on words
    _, mass = digit_posteriors(logits_for({31: 0.5, 30: 0.2, 5: 0.3}), table, words)
    assert mass == pytest.approx(0.6, abs=1e-3)


def test_digits_of_skips_separators_and_reads_homophones() -> None:
    table = digit_token_table(toy_encode)
    assert digits_of([15, 28, 13, 28, 8, 29, 3], table) == "4310"
    assert digits_of([28, 29], table) == ""


# -- confidences ------------------------------------------------------------------------
def test_nbest_confidence_is_the_agreeing_share_per_position() -> None:
    hyps = [("4532", -1.0), ("4532", -1.0), ("4562", -1.0 + np.log(2.0))]
    conf = nbest_confidences(hyps)
    assert conf == pytest.approx((1.0, 1.0, 0.5, 1.0), abs=1e-3)


def test_a_shorter_hypothesis_does_not_support_missing_positions() -> None:
    conf = nbest_confidences([("12", 0.0), ("1", 0.0)])
    assert conf == pytest.approx((1.0, 0.5))


def test_no_hypotheses_no_confidences() -> None:
    assert nbest_confidences([]) == ()
    assert DigitResult("", (), 0.0).confidence == 0.0
    assert DigitResult("45", (0.9, 0.6), 0.9).confidence == 0.6


# -- recogniser against a fake CTranslate2 model (real tokenizer) -------------------------
@pytest.fixture(scope="module")
def hf_tokenizer() -> Any:
    tokenizers = pytest.importorskip("tokenizers")
    registry = Registry(CATALOG, models_dir=Path("/nonexistent"))
    entry = registry.entry("whisper-tiny-en")
    try:
        path = registry.file_path(entry, next(f for f in entry.files if f.path == "tokenizer.json"))
    except Exception as e:  # package absent: the unit test needs only its tokenizer.json
        pytest.skip(f"tiny.en tokenizer not installed: {e}")
    return tokenizers.Tokenizer.from_file(str(path))


@dataclass
class FakeCT2:
    """Answers ``generate`` like CTranslate2's Whisper: first-step logits or an n-best list."""

    first_logits: np.ndarray
    nbest: list[tuple[list[int], float]]
    no_speech_prob: float = 0.01
    calls: list[dict] = field(default_factory=list)
    is_multilingual: bool = False

    def generate(self, encoded: Any, prompts: list[list[int]], **kw: Any) -> list[Any]:
        self.calls.append({"prompts": prompts, **kw})
        if kw.get("return_logits_vocab"):
            # like CTranslate2: one row per decoded step, the first step first
            rows = np.stack([self.first_logits, np.zeros_like(self.first_logits)])
            return [
                SimpleNamespace(
                    logits=[rows], sequences_ids=[[]], scores=[], no_speech_prob=self.no_speech_prob
                )
            ]
        return [
            SimpleNamespace(
                sequences_ids=[ids for ids, _ in self.nbest], scores=[s for _, s in self.nbest]
            )
        ]


def fake_engine(hf: Any, ct2: FakeCT2) -> Any:
    model = SimpleNamespace(
        hf_tokenizer=hf,
        model=ct2,
        feature_extractor=lambda audio: np.zeros((80, audio.size // 160 + 1), np.float32),
        encode=lambda features: "encoded",
    )
    return SimpleNamespace(model=model, model_name="fake-whisper")


def ids(hf: Any, text: str) -> list[int]:
    return hf.encode(text, add_special_tokens=False).ids


def test_menu_choice_reads_the_first_step_only(hf_tokenizer: Any) -> None:
    first = first_step(
        hf_tokenizer,
        {" Three": 0.4, "3": 0.3, " free": 0.2, " two": 0.1},  # " free": no digit
    )
    first[51000] = 30.0  # a timestamp token is not speech: it must not count in any share
    ct2 = FakeCT2(first, nbest=[])
    rec = DigitRecognizer(fake_engine(hf_tokenizer, ct2))

    result = rec.recognize(b"\x00\x01" * 8000, max_digits=1)

    assert result.digits == "3"
    assert result.confidences == (pytest.approx(0.875, abs=1e-3),)
    assert result.in_grammar == pytest.approx(0.8, abs=1e-3)
    assert len(ct2.calls) == 1  # no beam search for one digit
    prompt = ct2.calls[0]["prompts"][0]
    assert prompt[0] == hf_tokenizer.token_to_id("<|startofprev|>")  # the digit-list context
    assert prompt[-2:] == [
        hf_tokenizer.token_to_id("<|startoftranscript|>"),
        hf_tokenizer.token_to_id("<|notimestamps|>"),
    ]


def first_step(hf: Any, probs: dict[str, float], width: int = 51864) -> np.ndarray:
    """Logits over a Whisper-sized output layer (text, special and timestamp tokens)."""
    p = np.full(width, 1e-12)
    for text, value in probs.items():
        p[ids(hf, text)] = value
    return np.log(p)


def test_digit_string_uses_constrained_beam_and_nbest_confidence(hf_tokenizer: Any) -> None:
    eot = hf_tokenizer.token_to_id("<|endoftext|>")
    best = ids(hf_tokenizer, " four, five, three, two.")
    alt = ids(hf_tokenizer, " four, five, three, two")  # punctuation only: agrees
    other = ids(hf_tokenizer, " four, nine, three, two.")
    ct2 = FakeCT2(
        first_step(hf_tokenizer, {" four": 0.9, " for": 0.1}),
        nbest=[(best, -1.0), (alt, -1.5), (other, -3.0)],
    )
    rec = DigitRecognizer(fake_engine(hf_tokenizer, ct2), beam_size=3)

    result = rec.recognize(b"\x00\x01" * 16000)

    assert result.digits == "4532"
    assert result.text == "four, five, three, two."
    assert result.confidences[0] == 1.0 and result.confidences[2:] == (1.0, 1.0)
    assert 0.8 < result.confidences[1] < 0.95  # "nine" took a share of position 2
    beam = ct2.calls[1]
    assert beam["beam_size"] == 3 and beam["num_hypotheses"] == 3
    suppressed = set(beam["suppress_tokens"])
    for allowed in (*ids(hf_tokenizer, " four"), *ids(hf_tokenizer, "4"), *ids(hf_tokenizer, ",")):
        assert allowed not in suppressed
    assert eot not in suppressed
    assert ids(hf_tokenizer, " hello")[0] in suppressed
    assert ids(hf_tokenizer, "45")[0] in suppressed  # no multi-digit numeral tokens
    assert 51863 in suppressed  # the whole output layer, timestamp tokens included


def test_max_digits_truncates_a_run_on(hf_tokenizer: Any) -> None:
    run_on = ids(hf_tokenizer, " one, one, one, one, one, one")
    ct2 = FakeCT2(first_step(hf_tokenizer, {" one": 1.0}), nbest=[(run_on, -1.0)])
    rec = DigitRecognizer(fake_engine(hf_tokenizer, ct2), max_digits=4)

    assert rec.recognize(b"\x00\x01" * 16000 * 2).digits == "1111"
    assert ct2.calls[1]["max_length"] <= len(ct2.calls[1]["prompts"][0]) + 2 * 4 + 2


def test_a_short_turn_cannot_hold_a_long_digit_string(hf_tokenizer: Any) -> None:
    run_on = ids(hf_tokenizer, " one, one, one, one, one, one")
    ct2 = FakeCT2(first_step(hf_tokenizer, {" one": 1.0}), nbest=[(run_on, -1.0)])
    rec = DigitRecognizer(fake_engine(hf_tokenizer, ct2))

    assert rec.recognize(b"\x00\x01" * 4000).digits == "11"  # 0.25 s: at most 2 digits


def test_silence_is_rejected_before_decoding(hf_tokenizer: Any) -> None:
    ct2 = FakeCT2(first_step(hf_tokenizer, {" six": 1.0}), nbest=[], no_speech_prob=0.9)
    result = DigitRecognizer(fake_engine(hf_tokenizer, ct2)).recognize(b"\x00\x00" * 16000)

    assert (result.digits, result.rejected, result.confidences) == ("", "no_speech", ())
    assert len(ct2.calls) == 1  # the beam search never ran


def test_words_that_are_not_digits_are_rejected(hf_tokenizer: Any) -> None:
    first = first_step(hf_tokenizer, {" I": 0.99, " five": 0.01, " [": 5.0})  # " [" no word
    ct2 = FakeCT2(first, nbest=[])
    rec = DigitRecognizer(fake_engine(hf_tokenizer, ct2))

    for limit in (1, None):
        result = rec.recognize(b"\x00\x01" * 16000, max_digits=limit)
        assert (result.digits, result.rejected) == ("", "out_of_grammar")
        assert result.in_grammar == pytest.approx(0.01, abs=1e-3)


def test_model_failure_is_an_asr_error(hf_tokenizer: Any) -> None:
    class Broken(FakeCT2):
        def generate(self, encoded: Any, prompts: list[list[int]], **kw: Any) -> list[Any]:
            raise RuntimeError("out of memory")

    rec = DigitRecognizer(fake_engine(hf_tokenizer, Broken(np.zeros(1), [])))
    with pytest.raises(TranscriptionFailed) as err:
        rec.recognize(b"\x00\x01" * 1600)
    assert err.value.code == "asr_transcription_failed"
