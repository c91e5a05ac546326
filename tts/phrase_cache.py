"""An LRU cache of synthesized phrases that wraps any TextToSpeech engine.

Why: fixed prompts ("this call may be recorded…", greetings, hold messages) are spoken on
every call; synthesizing them once saves the first-chunk latency (hundreds of ms for Piper on
this CPU) and CPU per call. The cache is itself a :class:`tts.base.TextToSpeech`, so the
pipeline does not know whether it talks to the cache or the engine. Keyed by
(voice, language, text); bounded by entry count and by bytes so dynamic replies cannot grow
it without limit. A phrase is stored only after its synthesis completed, so an interrupted
stream (barge-in) never leaves a truncated prompt behind.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator

from tts.base import AudioChunk, Capabilities, TextToSpeech

Key = tuple[str, str | None, str]


class PhraseCache:
    """LRU of (voice, language, text) → audio chunks, in front of one engine."""

    def __init__(
        self, engine: TextToSpeech, *, max_items: int = 256, max_bytes: int = 64 * 1024 * 1024
    ) -> None:
        self.engine = engine
        self.max_items = max_items
        self.max_bytes = max_bytes
        self.voice = str(getattr(engine, "voice_name", type(engine).__name__))
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[Key, tuple[AudioChunk, ...]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def capabilities(self) -> Capabilities:
        return self.engine.capabilities

    def __len__(self) -> int:
        return len(self._items)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def _key(self, text: str, language: str | None) -> Key:
        return (self.voice, language, " ".join(text.split()))

    def get(self, text: str, *, language: str | None = None) -> tuple[AudioChunk, ...] | None:
        key = self._key(text, language)
        with self._lock:
            chunks = self._items.get(key)
            if chunks is not None:
                self._items.move_to_end(key)
            return chunks

    def _store(self, key: Key, chunks: tuple[AudioChunk, ...]) -> None:
        size = sum(len(c.pcm16) for c in chunks)
        if self.max_items <= 0 or size > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= sum(len(c.pcm16) for c in old)
            self._items[key] = chunks
            self._bytes += size
            while len(self._items) > self.max_items or self._bytes > self.max_bytes:
                _, evicted = self._items.popitem(last=False)
                self._bytes -= sum(len(c.pcm16) for c in evicted)

    def synthesize_stream(self, text: str, *, language: str | None = None) -> Iterator[AudioChunk]:
        """Cached chunks if present; otherwise stream from the engine and keep a full copy."""
        cached = self.get(text, language=language)
        if cached is not None:
            self.hits += 1
            yield from cached
            return
        self.misses += 1
        produced: list[AudioChunk] = []
        for chunk in self.engine.synthesize_stream(text, language=language):
            produced.append(chunk)
            yield chunk
        # reached only when the consumer read the whole stream (not on barge-in/close)
        self._store(self._key(text, language), tuple(produced))

    def warm(self, phrases: Iterable[str], *, language: str | None = None) -> int:
        """Synthesize fixed prompts ahead of the first call; returns how many were added."""
        added = 0
        for text in phrases:
            if self.get(text, language=language) is None:
                for _ in self.synthesize_stream(text, language=language):
                    pass
                added += 1
        return added
