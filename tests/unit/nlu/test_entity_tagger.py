"""The learned CRF entity tagger: tokens, tags, unseen values from context, save/load."""

import pytest

from nlu.engine import TAGGER_FILE, NluEngine
from nlu.entities import BUILTIN_ENTITIES, EntityExtractor
from nlu.entity_tagger import EXTRACTOR, EntityTagger, bio_tags, tokenize
from nlu.errors import NluModelError
from nlu.rasa_format import read_nlu_yaml

CITIES = ["Paris", "Berlin", "Madrid", "Rome", "Vienna", "Lisbon", "Prague", "Dublin"]
BRANCHES = ["北京", "上海", "广州", "深圳", "杭州", "成都"]


def _data():
    lines = []
    for i, city in enumerate(CITIES):
        lines += [
            f"    - which branch is open in [{city}](city) on saturday",
            f"    - find me a branch in [{city}](city)",
            f"    - is there an atm near [{city}](city) station",
            f"    - I moved to [{city}](city) last month"
            if i % 2
            else f"    - I live in [{city}](city) now",
        ]
    zh = []
    for b in BRANCHES:
        zh += [f"    - [{b}](city)有网点吗", f"    - 我在[{b}](city)，附近的网点在哪"]
    text = (
        'version: "3.1"\nnlu:\n- intent: find_branch\n  examples: |\n'
        + "\n".join(lines + zh)
        + "\n- intent: check_balance\n  examples: |\n"
        + "    - what is my balance\n    - how much money do I have\n    - 我的余额是多少\n"
        + "    - show my balance please\n    - 查一下余额\n"
        + "- synonym: Wien\n  examples: |\n    - Vienna\n"
        + "- lookup: product\n  examples: |\n    - gold card\n    - saver account\n"
    )
    return read_nlu_yaml(text)


def test_tokenize_words_han_characters_and_punctuation():
    toks = tokenize("I'm in 上海, call 555-0143!")
    assert [t for t, _, _ in toks] == [
        "I'm", "in", "上", "海", ",", "call", "555", "-", "0143", "!",
    ]  # fmt: skip
    text = "I'm in 上海, call 555-0143!"
    assert all(text[s:e] == t for t, s, e in toks)


def test_bio_tags_cover_the_span():
    toks = tokenize("fly to New York today")
    assert bio_tags(toks, [(7, 15, "city")]) == ["O", "O", "B-city", "I-city", "O"]


@pytest.fixture(scope="module")
def tagger(tmp_path_factory):
    path = tmp_path_factory.mktemp("crf") / TAGGER_FILE
    data = _data()
    info = EntityTagger.train(data, path, skip=BUILTIN_ENTITIES)
    assert info is not None and info["entities"] == ["city"]
    return EntityTagger(path, info["entities"], data.synonyms)


def test_tags_cities_it_never_saw_from_their_context(tagger):
    for text, city in [
        ("find me a branch in Oslo", "Oslo"),
        ("which branch is open in Warsaw on saturday", "Warsaw"),
    ]:
        found = tagger.extract(text)
        assert [(e.entity, e.value, e.extractor) for e in found] == [("city", city, EXTRACTOR)]
        assert text[found[0].start : found[0].end] == city
        assert 0.5 <= found[0].confidence <= 1.0
    assert tagger.extract("what is my balance") == []
    zh = tagger.extract("我在南京，附近的网点在哪")
    assert [(e.entity, e.value) for e in zh] == [("city", "南京")]


def test_synonyms_map_tagged_values(tagger):
    assert [e.value for e in tagger.extract("find me a branch in Vienna")] == ["Wien"]


def test_extractor_drops_learned_annotations_from_the_gazetteer_but_keeps_lookups(tagger):
    data = _data()
    plain = EntityExtractor(data)
    with_crf = EntityExtractor(data, tagger=tagger)
    # out of context, an annotated value is no longer matched blindly ...
    assert [e.entity for e in plain.extract("Paris")] == ["city"]
    assert with_crf.extract("Paris") == [] or all(
        e.extractor == EXTRACTOR for e in with_crf.extract("Paris")
    )
    # ... lookup-table values still are, and the built-ins still run beside the CRF
    found = with_crf.extract("find me a branch in Oslo for my gold card, I owe $40")
    assert {(e.entity, e.extractor) for e in found} >= {
        ("city", EXTRACTOR),
        ("product", "gazetteer"),
        ("amount", "builtin_amount"),
    }


def test_no_tagger_without_enough_annotations(tmp_path):
    data = read_nlu_yaml(
        'version: "3.1"\nnlu:\n- intent: a\n  examples: |\n    - go to [Paris](city)\n'
        "    - hello\n- intent: b\n  examples: |\n    - pay [$5](amount)\n    - bye\n"
    )
    # one city example; amounts are built-in
    assert EntityTagger.train(data, tmp_path / "m.crfsuite", skip=BUILTIN_ENTITIES) is None


def test_unreadable_model_is_a_clear_error(tmp_path):
    bad = tmp_path / TAGGER_FILE
    bad.write_bytes(b"not a crfsuite model")
    with pytest.raises(NluModelError, match="entity tagger"):
        EntityTagger(bad, ["city"])


def test_engine_trains_saves_and_reloads_the_tagger(tmp_path, fake_factory):
    data = _data()
    engine = NluEngine.train(
        data, registry=None, cache_dir=tmp_path, embedder_factory=fake_factory, calibrate=False
    )
    assert engine.meta["entity_tagger"]["entities"] == ["city"]
    ents = engine.parse("find me a branch in Oslo").entities
    assert [(e["entity"], e["value"], e["extractor"]) for e in ents] == [
        ("city", "Oslo", EXTRACTOR)
    ]
    again = NluEngine.load(engine.meta["path"], None, embedder_factory=fake_factory)
    assert again.extractor.tagger is not None
    assert [e["value"] for e in again.parse("is there an atm near Krakow station").entities] == [
        "Krakow"
    ]
