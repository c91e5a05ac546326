"""PhraseCache: LRU by count and bytes, keyed by voice+language+text, never stores a cut stream."""

from __future__ import annotations

from tts.base import TextToSpeech
from tts.fake import FakeTTS
from tts.phrase_cache import PhraseCache


def audio(cache: PhraseCache, text: str, language: str | None = None) -> bytes:
    return b"".join(c.pcm16 for c in cache.synthesize_stream(text, language=language))


def test_second_request_is_served_from_cache_with_identical_audio() -> None:
    engine = FakeTTS()
    cache = PhraseCache(engine)
    first = audio(cache, "This call may be recorded.")
    second = audio(cache, "This call   may be recorded.")  # whitespace-normalised key
    assert first == second and first
    assert engine.calls == ["This call may be recorded."]
    assert (cache.hits, cache.misses) == (1, 1)
    assert isinstance(cache, TextToSpeech)


def test_language_is_part_of_the_key() -> None:
    engine = FakeTTS()
    cache = PhraseCache(engine)
    audio(cache, "OK.", "en")
    audio(cache, "OK.", "zh")
    assert len(engine.calls) == 2


def test_least_recently_used_is_evicted_first() -> None:
    engine = FakeTTS()
    cache = PhraseCache(engine, max_items=2)
    audio(cache, "one.")
    audio(cache, "two.")
    audio(cache, "one.")  # touch: "two." is now the oldest
    audio(cache, "three.")
    assert cache.get("one.") is not None
    assert cache.get("two.") is None
    assert len(cache) == 2


def test_byte_bound_holds() -> None:
    engine = FakeTTS(ms_per_char=10)  # 320 bytes per character at 16 kHz
    cache = PhraseCache(engine, max_bytes=5_000)
    audio(cache, "abcdefghij.")  # 11 chars → 3520 bytes
    audio(cache, "klmnopqrst.")
    assert cache.size_bytes <= 5_000
    assert cache.get("abcdefghij.") is None and cache.get("klmnopqrst.") is not None
    audio(cache, "x" * 40 + ".")  # bigger than the whole cache: streamed, not stored
    assert cache.get("x" * 40 + ".") is None


def test_interrupted_stream_is_not_cached() -> None:
    engine = FakeTTS()
    cache = PhraseCache(engine)
    stream = cache.synthesize_stream("First part. Second part.")
    next(stream)
    stream.close()  # barge-in: the consumer stops reading
    assert cache.get("First part. Second part.") is None
    assert len(audio(cache, "First part. Second part.")) > 0
    assert cache.get("First part. Second part.") is not None


def test_warm_synthesizes_only_missing_prompts() -> None:
    engine = FakeTTS()
    cache = PhraseCache(engine)
    assert cache.warm(["Hello.", "Please hold."]) == 2
    assert cache.warm(["Hello.", "Goodbye."]) == 1
    assert engine.calls == ["Hello.", "Please hold.", "Goodbye."]
