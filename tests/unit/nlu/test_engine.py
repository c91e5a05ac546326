"""NluEngine with a fake embedder: training, caching, OOS, bad input, metadata checks."""

import json

import numpy as np
import pytest

from models.errors import ModelIncompatible
from nlu.engine import MAX_CHARS, NluEngine, clean_text
from nlu.errors import NluInputError, NluTrainingError
from nlu.intents import HeadConfig, IntentHead
from nlu.rasa_format import read_nlu_yaml
from nlu.training_data import OUT_OF_SCOPE


def test_one_head_per_language(engine):
    assert set(engine.heads) == {"en", "zh"}
    for head in engine.heads.values():
        assert OUT_OF_SCOPE in head.labels
        assert 0.0 < head.threshold < 1.0  # calibrated, not a constant


@pytest.mark.parametrize(
    ("text", "intent", "lang"),
    [
        ("I lost my card", "report_lost_card", "en"),
        ("what are your opening hours", "branch_hours", "en"),
        ("我要挂失", "report_lost_card", "zh"),
        ("转人工", "talk_to_human", "zh"),
    ],
)
def test_parse_training_sentences(engine, text, intent, lang):
    res = engine.parse(text)
    assert res.language == lang
    assert res.intent["name"] == intent
    assert res.intent_ranking[0]["name"] == intent
    assert res.intent_ranking == sorted(res.intent_ranking, key=lambda r: -r["confidence"])


def test_rasa_dict_shape(engine):
    d = engine.parse("my card ending in 4321 is lost, I'm so worried").to_rasa_dict()
    assert set(d) >= {"text", "intent", "entities", "intent_ranking", "emotion"}
    assert set(d["intent"]) == {"name", "confidence"}
    ent = d["entities"][0]
    assert {k: ent[k] for k in ("entity", "value", "start", "end")} == {
        "entity": "card_last4",
        "value": "4321",
        "start": 18,
        "end": 22,
    }
    assert ent["extractor"]
    assert d["emotion"]["label"] == "anxious"
    assert set(d["emotion"]) >= {"label", "confidence", "sentiment", "escalate"}
    json.dumps(d)


def test_out_of_scope_via_threshold(engine):
    head = engine.heads["en"]
    flat = np.full(len(head.labels), 1.0 / len(head.labels))
    assert head.decide(flat[None, :])[0][0] == OUT_OF_SCOPE


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("", "empty"), ("   \n\t ", "empty"), ("\x00\x01\x02", "empty"), ("!!! ???", "no letters"),
     ("x" * (MAX_CHARS + 1), "limit"), (b"\xff\xfe\x00", "binary"), (42, "string")],
)  # fmt: skip
def test_bad_input_is_refused_clearly(engine, text, fragment):
    with pytest.raises(NluInputError, match=fragment):
        engine.parse(text)


def test_junk_is_cleaned_not_fatal(engine):
    assert clean_text("hel\x00lo\u200b  there") == "hel lo there"
    res = engine.parse("I lost my card \x07\x07 我的卡丢了")  # mixed scripts go to the e5 head
    assert res.language == "zh"


def test_cache_hit_reuses_model(demo_data, fake_factory, tmp_path):
    first = NluEngine.train(
        demo_data, registry=None, cache_dir=tmp_path, embedder_factory=fake_factory
    )
    stamp = (tmp_path / first.meta["path"].split("/")[-1] / "meta.json").stat().st_mtime_ns
    second = NluEngine.train(
        demo_data, registry=None, cache_dir=tmp_path, embedder_factory=fake_factory
    )
    assert second.meta["path"] == first.meta["path"]
    assert (tmp_path / first.meta["path"].split("/")[-1] / "meta.json").stat().st_mtime_ns == stamp


def test_intent_with_one_example_is_refused_and_old_model_kept(demo_data, fake_factory, tmp_path):
    good = NluEngine.train(
        demo_data, registry=None, cache_dir=tmp_path, embedder_factory=fake_factory
    )
    bad = read_nlu_yaml(
        "nlu:\n- intent: a\n  examples: |\n    - one\n    - two\n- intent: lonely\n  examples: |\n    - only me\n"  # noqa: E501
    )
    with pytest.raises(NluTrainingError, match=r"'lonely' \(line 8\).*only 1 example"):
        NluEngine.train(bad, registry=None, cache_dir=tmp_path, embedder_factory=fake_factory)
    assert [p.name for p in tmp_path.glob("nlu-*")] == [good.meta["path"].split("/")[-1]]
    assert good.parse("I lost my card").intent["name"] == "report_lost_card"


def test_load_refuses_mismatched_metadata(engine, fake_factory, tmp_path):
    import shutil
    from pathlib import Path

    copy = tmp_path / "m"
    shutil.copytree(Path(engine.meta["path"]), copy)
    NluEngine.load(copy, None, embedder_factory=fake_factory)  # loads fine as is
    with pytest.raises(ModelIncompatible, match="fingerprint"):
        NluEngine.load(copy, None, expected_fingerprint="0" * 64, embedder_factory=fake_factory)
    meta = json.loads((copy / "meta.json").read_text())
    meta["format_version"] = 999
    (copy / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ModelIncompatible, match="format"):
        NluEngine.load(copy, None, embedder_factory=fake_factory)


def test_oos_threshold_works_without_oos_examples(demo_data, fake_factory):
    texts = [e.text for e in demo_data.examples if e.intent != OUT_OF_SCOPE and e.text.isascii()]
    labels = [e.intent for e in demo_data.examples if e.intent != OUT_OF_SCOPE and e.text.isascii()]
    emb = fake_factory("minilm-l6-v2").encode(texts)
    head = IntentHead.fit(emb, texts, labels, HeadConfig())
    assert OUT_OF_SCOPE not in head.labels
    assert head.threshold > 0
    assert head.calibration["n_pseudo_oos"] > 0


def test_head_save_load_round_trip(engine, tmp_path):
    head = engine.heads["en"]
    head.save(tmp_path, "h")
    again = IntentHead.load(tmp_path, "h")
    emb = np.random.default_rng(0).normal(size=(2, 384)).astype(np.float32)
    texts = ["lost card", "balance please"]
    np.testing.assert_allclose(
        again.predict_proba(emb, texts), head.predict_proba(emb, texts), rtol=1e-5
    )
    assert again.threshold == head.threshold


async def test_aparse_runs_off_loop(engine):
    res = await engine.aparse("thanks a lot")
    assert res.intent["name"] == "thanks"
