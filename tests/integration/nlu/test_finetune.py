"""Real MiniLM: opt-in fine-tuning of the top layers, saved and loaded with the bot's model."""

from pathlib import Path

import numpy as np
import pytest

from core.errors import HotlineError
from models.errors import ModelIncompatible
from nlu.commands import DEFAULT_DATA, DEMO_FILES
from nlu.embedders import MINILM, MiniLMEmbedder
from nlu.engine import NluEngine
from nlu.finetune import TUNED_SUFFIX, TunedMiniLM, finetune_minilm
from nlu.intents import HeadConfig
from nlu.rasa_format import read_nlu_yaml
from nlu.training_data import OUT_OF_SCOPE

pytestmark = pytest.mark.slow
ROOT = Path(__file__).parents[3]


@pytest.fixture(scope="module")
def english():
    return read_nlu_yaml(DEFAULT_DATA / DEMO_FILES[0])


@pytest.fixture(scope="module")
def tuned_engine(registry, english, tmp_path_factory):
    cfg = HeadConfig(finetune_layers=1, finetune_epochs=2)
    cache = tmp_path_factory.mktemp("nlu-tuned")
    return NluEngine.train(english, registry=registry, language="en", cache_dir=cache, config=cfg)


def test_tuning_moves_only_the_top_layers_and_keeps_the_base_model(registry, english):
    base = MiniLMEmbedder(registry=registry)
    texts = [e.text for e in english.examples]
    before = base.encode(texts[:8])
    encoder, info = finetune_minilm(
        registry, texts, [e.intent for e in english.examples], layers=1, epochs=1
    )
    # the shared base embedder (assist, emotion, other bots) is untouched by tuning
    np.testing.assert_allclose(base.encode(texts[:8]), before, atol=1e-5)
    tuned = encoder.encode(texts[:8])
    assert tuned.shape == before.shape
    assert np.allclose(np.linalg.norm(tuned, axis=1), 1.0, atol=1e-4)
    assert not np.allclose(tuned, before, atol=1e-3)  # the top layer really changed
    assert info["layers"] == 1 and len(info["loss_by_epoch"]) == 1
    assert encoder.name == MINILM + TUNED_SUFFIX
    # parse's one-pass pair: the shared model's vector and the tuned one, as two passes give
    frozen, tuned_again = encoder.encode_pair(texts[:8])
    np.testing.assert_allclose(frozen, before, atol=1e-5)
    np.testing.assert_allclose(tuned_again, tuned, atol=1e-5)


def test_tuned_model_is_saved_reloaded_and_parses_the_same(registry, english, tuned_engine):
    path = Path(tuned_engine.meta["path"])
    assert (path / "tuned_en.safetensors").exists()
    assert tuned_engine.meta["heads"]["en"]["finetune"]["layers"] == 1
    loaded = NluEngine.load(path, registry)
    assert "en" in loaded.tuned
    texts = [
        "somebody took my visa card out of my bag",
        "how much cash is sitting in my account right now",
        "could I please speak with a live agent",
        "what's a good recipe for lasagna",
    ]
    first = [tuned_engine.parse(t).intent for t in texts]
    again = [loaded.parse(t).intent for t in texts]
    assert [i["name"] for i in first] == [i["name"] for i in again]
    np.testing.assert_allclose(
        [i["confidence"] for i in first], [i["confidence"] for i in again], atol=1e-4
    )
    assert first[0]["name"] == "report_lost_card"
    assert first[2]["name"] == "talk_to_human"
    # out-of-scope is still the frozen, cross-validated head's call
    assert first[3]["name"] == OUT_OF_SCOPE
    # classify (batch) and parse (one) agree
    assert [n for n, _ in loaded.classify(texts, language="en")] == [i["name"] for i in first]


def test_a_corrupt_tuned_file_is_refused_with_its_path(registry, tuned_engine, tmp_path):
    bad = tmp_path / "tuned_en.safetensors"
    bad.write_bytes(b"not a safetensors file")
    with pytest.raises(HotlineError, match=r"tuned_en\.safetensors"):
        TunedMiniLM.load(registry, bad)


def test_tuned_and_frozen_models_are_cached_apart(registry, english, tuned_engine):
    frozen = NluEngine.train(
        english,
        registry=registry,
        language="en",
        cache_dir=Path(tuned_engine.meta["path"]).parent,
    )
    assert frozen.meta["path"] != tuned_engine.meta["path"]
    assert not frozen.tuned
    with pytest.raises(ModelIncompatible):
        NluEngine.load(Path(frozen.meta["path"]), registry, expected_fingerprint="other")


def test_cli_train_with_finetune_reports_it(tmp_path, monkeypatch):
    import json

    from typer.testing import CliRunner

    from nlu.commands import nlu_app

    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HOTLINE_MODELS__DIR", str(ROOT / "var" / "models"))
    args = ["train", str(DEFAULT_DATA / DEMO_FILES[0]), "--language", "en"]
    res = CliRunner().invoke(nlu_app, [*args, "--finetune-layers", "1", "--finetune-epochs", "1"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    assert info["heads"]["en"]["finetune"]["epochs"] == 1
    assert (Path(info["path"]) / "tuned_en.safetensors").exists()
    bad = CliRunner().invoke(nlu_app, [*args, "--finetune-layers", "9"])
    assert bad.exit_code == 2
    assert "finetune_layers must be 1..6" in bad.output


def test_bot_setting_tunes_english_and_leaves_chinese_on_e5(registry, tmp_path, monkeypatch):
    from bots.dialogue.assembly import train_demo_nlu
    from core.settings import load_settings

    monkeypatch.setenv("HOTLINE_BOTS__NLU_FINETUNE_LAYERS", "1")
    layers = load_settings().bots.nlu_finetune_layers
    assert layers == 1
    engine = train_demo_nlu(
        registry=registry, cache_dir=tmp_path, with_emotion=False, finetune_layers=layers
    )
    assert set(engine.tuned) == {"en"}
    assert engine.parse("somebody took my visa card out of my bag").intent["name"] == (
        "report_lost_card"
    )
    assert engine.parse("我的信用卡好像被偷了").intent["name"] == "report_lost_card"
    monkeypatch.setenv("HOTLINE_BOTS__NLU_FINETUNE_LAYERS", "7")
    with pytest.raises(HotlineError, match="HOTLINE_BOTS__NLU_FINETUNE_LAYERS"):
        load_settings()
