"""Per-language voice engines: lazy loading, routing by call language, Mandarin back-channels."""

from __future__ import annotations

import pytest

from asr.fake import FakeSTT
from bots.backchannel import is_backchannel
from bots.errors import VoiceCallError
from bots.faq_responder import FaqResponder
from bots.speech_stage import LanguageRoutedTTS, PhraseCache, PhraseCaches
from bots.voice_pipeline import LanguageEngines, VoiceEngines, language_key
from tts.fake import FakeTTS


def _engines() -> tuple[VoiceEngines, list[str]]:
    loads: list[str] = []
    en_tts = FakeTTS(languages=("en",), voice_name="en")
    engines = VoiceEngines(
        stt=FakeSTT(("hello",), languages=("en",)),
        tts=en_tts,
        smart_turn=object(),  # type: ignore[arg-type]
        responder=FaqResponder(),
        phrase_cache=PhraseCache(en_tts),
    )

    def load_zh() -> LanguageEngines:
        loads.append("zh")
        tts = FakeTTS(languages=("zh",), voice_name="zh")
        return LanguageEngines(FakeSTT(("你好",), languages=("zh",)), tts, PhraseCache(tts))

    engines.loaders["zh"] = load_zh
    return engines, loads


@pytest.mark.parametrize(
    ("given", "key"),
    [("en", "en"), ("en-US", "en"), ("zh-CN", "zh"), ("ZH", "zh"), (None, "auto"), ("", "auto")],
)
def test_language_key(given: str | None, key: str) -> None:
    assert language_key(given) == key


def test_english_needs_no_loading_and_mandarin_loads_once_on_demand() -> None:
    engines, loads = _engines()
    en = engines.for_language("en-US")
    assert en.stt is engines.stt and en.tts is engines.tts and loads == []
    zh = engines.for_language("zh")
    assert engines.for_language("zh-CN") is zh and loads == ["zh"]
    assert zh.tts.voice_name == "zh"  # type: ignore[attr-defined]
    assert engines.supports("zh") and engines.supports("en") and not engines.supports("fr")
    with pytest.raises(VoiceCallError):
        engines.for_language("fr")


def test_routed_voice_speaks_each_language_with_its_own_voice() -> None:
    en, zh = FakeTTS(languages=("en",)), FakeTTS(languages=("zh",))
    routed = LanguageRoutedTTS({"en": en, "zh": zh})
    assert list(routed.synthesize_stream("您好。", language="zh-CN"))
    assert list(routed.synthesize_stream("Hello.", language=None))  # no language: the first
    assert list(routed.synthesize_stream("Bonjour.", language="fr"))  # unknown: the first too
    assert zh.calls == ["您好。"] and en.calls == ["Hello.", "Bonjour."]
    assert routed.capabilities.languages == ("en", "zh")


def test_phrase_caches_look_up_the_language_of_the_text() -> None:
    en, zh = FakeTTS(languages=("en",)), FakeTTS(languages=("zh",))
    en_cache, zh_cache = PhraseCache(en), PhraseCache(zh)
    phrases = [("Hello.", "en"), ("您好。", "zh")]
    assert en_cache.warm(phrases) == 1 and zh_cache.warm(phrases) == 1
    caches = PhraseCaches({"en": en_cache, "zh": zh_cache})
    assert caches.get("您好。", "zh") == zh_cache.get("您好。", "zh") is not None
    assert caches.get("Hello.", None) is not None
    assert caches.get("您好。", "en") is None and caches.get("Hola.", "es") is None


@pytest.mark.parametrize("text", ["嗯", "嗯嗯。", "对", "对对", "好的", "是的。"])
def test_mandarin_backchannels_do_not_interrupt(text: str) -> None:
    assert is_backchannel(text)


@pytest.mark.parametrize("text", ["我的银行卡丢了", "对，我要挂失"])
def test_mandarin_requests_are_not_backchannels(text: str) -> None:
    assert not is_backchannel(text)


async def test_faq_answers_the_measured_whisper_reading_in_chinese() -> None:
    # "我的银行卡丢了" synthesized by eSpeak NG comes back from whisper-base as this
    reply = await FaqResponder().respond("我的天先卡丢了。", contact_id="c", language="zh")
    assert reply.startswith("为了您的安全")


class _Session:
    def __init__(self, language: str | None) -> None:
        self.contact_id, self.input, self.output, self.language = "c1", None, None, language


async def _factory_config(monkeypatch, engines: VoiceEngines, language: str | None, bus=None):
    import bots.voice_pipeline as vp
    from core.clock import FrozenClock

    built: list = []
    monkeypatch.setattr(vp, "build_voice_call", lambda **kw: built.append(kw) or kw)

    async def fake_run(call):
        return call

    monkeypatch.setattr(vp, "run_voice_call", fake_run)
    factory = vp.make_voice_factory(engines, bus=bus, clock=FrozenClock(), recordings_dir=None)
    await factory(_Session(language))
    return built[0]["config"]


async def test_factory_gives_a_zh_call_mandarin_prompts_and_loads_its_engines(monkeypatch) -> None:
    engines, loads = _engines()
    cfg = await _factory_config(monkeypatch, engines, "zh")
    assert cfg.language == "zh" and loads == ["zh"]
    assert cfg.greeting and cfg.greeting.startswith("您好")


async def test_factory_falls_back_to_english_when_a_language_cannot_load(monkeypatch) -> None:
    from core.bus.memory import MemoryBus

    engines, _ = _engines()

    def broken() -> LanguageEngines:
        raise RuntimeError("espeak-ng missing")

    engines.loaders["zh"] = broken
    bus = MemoryBus()
    await bus.start()
    seen: list = []

    async def keep(e) -> None:
        seen.append(e)

    bus.subscribe("t", keep)
    cfg = await _factory_config(monkeypatch, engines, "zh", bus=bus)
    await bus.close()
    assert cfg.language == "en" and cfg.greeting and cfg.greeting.startswith("Hello")
    assert [e.type for e in seen] == ["contact.error"] and "espeak-ng missing" in seen[0].message
    assert (await _factory_config(monkeypatch, engines, "fr")).language == "en"  # no engines
