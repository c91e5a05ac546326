from pathlib import Path

import numpy as np
import pytest

from nlu.emotion import _EXTRA, TAXONOMY, EmotionClassifier, _LinearHead
from nlu.fake import FakeEmbedder
from nlu.rasa_format import read_nlu_yaml

DATA = Path(__file__).parents[3] / "nlu" / "data"


@pytest.fixture(scope="session")
def demo_data():
    return read_nlu_yaml(DATA / "demo_bank_en.yml").merge(read_nlu_yaml(DATA / "demo_bank_zh.yml"))


@pytest.fixture(scope="session")
def fake_factory():
    return lambda name: FakeEmbedder(name)


@pytest.fixture(scope="session")
def fake_emotion():
    """A tiny linear emotion head that reads only the lexicon features (no embedding weight)."""
    dim = 384 + _EXTRA
    tax = np.zeros((len(TAXONOMY), dim), dtype=np.float32)
    # extra layout: vader(4) then lexicon hits for angry, frustrated, anxious, sad, satisfied
    for k, label in enumerate(("angry", "frustrated", "anxious", "sad", "satisfied")):
        tax[TAXONOMY.index(label), 384 + 4 + k] = 8.0
    b = np.zeros(len(TAXONOMY), dtype=np.float32)
    b[TAXONOMY.index("neutral")] = 1.0
    go = _LinearHead(np.zeros((28, dim), dtype=np.float32), np.zeros(28, dtype=np.float32))
    heads = {
        name: {"tax": _LinearHead(tax, b), "go": go, "go_thr": np.full(28, 0.5, dtype=np.float32)}
        for name in ("minilm-l6-v2", "e5-small-multilingual")
    }
    return EmotionClassifier(heads=heads, meta={"extra_features": _EXTRA, "n_train": {}})


@pytest.fixture(scope="module")
def engine(demo_data, fake_factory, fake_emotion, tmp_path_factory):
    """The demo bot's engine on the fake embedder and the lexicon-only emotion head."""
    from nlu.engine import NluEngine

    return NluEngine.train(
        demo_data,
        registry=None,
        cache_dir=tmp_path_factory.mktemp("nlu"),
        embedder_factory=fake_factory,
        emotion=fake_emotion,
    )
