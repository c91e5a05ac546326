"""Real models: train the Demo Bank model (MiniLM + e5) and parse held-out EN and ZH sentences."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nlu.commands import DEFAULT_DATA, DEMO_FILES, emotion_app, nlu_app
from nlu.emotion import DEFAULT_HEAD, EmotionClassifier
from nlu.engine import NluEngine
from nlu.rasa_format import read_nlu_yaml

pytestmark = pytest.mark.slow
ROOT = Path(__file__).parents[3]


@pytest.fixture(scope="module")
def engine(registry, tmp_path_factory):
    data = read_nlu_yaml(DEFAULT_DATA / DEMO_FILES[0]).merge(
        read_nlu_yaml(DEFAULT_DATA / DEMO_FILES[1])
    )
    emotion = (
        EmotionClassifier.load(DEFAULT_HEAD, registry=registry)
        if DEFAULT_HEAD.with_suffix(".json").exists()
        else None
    )
    return NluEngine.train(
        data, registry=registry, cache_dir=tmp_path_factory.mktemp("nlu"), emotion=emotion
    )


# sentences written for this test, not in the training data
@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("somebody took my visa card out of my bag", "report_lost_card"),
        ("how much cash is sitting in my account right now", "check_balance"),
        ("I never bought anything from that shop but got charged", "dispute_charge"),
        ("could I please speak with a live agent", "talk_to_human"),
        ("what hours is your branch open on weekdays", "branch_hours"),
        ("我的信用卡好像被偷了", "report_lost_card"),
        ("帮我看看账户里还有多少钱", "check_balance"),
        ("请给我转接人工客服", "talk_to_human"),
        ("你们星期天上班吗", "branch_hours"),
    ],
)
def test_held_out_sentences(engine, text, intent):
    assert engine.parse(text).intent["name"] == intent


OOS_SENTENCES = [
    "what's a good recipe for lasagna",
    "who painted the mona lisa",
    "how many players are on a soccer team",
    "帮我写一首关于春天的诗",
    "明天会下雨吗",  # known miss today: 明天 pulls it towards branch_hours
    "长城有多长",
]


def test_out_of_scope_rate(engine):
    """Most unseen off-topic sentences are refused (demo data has only 12 OOS examples/lang)."""
    hits = [engine.parse(t).intent["name"] == "out_of_scope" for t in OOS_SENTENCES]
    assert sum(hits) >= len(OOS_SENTENCES) - 1, list(zip(OOS_SENTENCES, hits, strict=True))


def test_entities_and_emotion(engine):
    res = engine.parse(
        "I was charged $45.20 on 3/14 and this is absolutely ridiculous, get me a manager"
    )
    ents = {(e["entity"], e["value"]) for e in res.entities}
    assert ("amount", "45.20 USD") in ents
    if engine.emotion is not None:
        assert res.emotion["label"] in {"angry", "frustrated"}
        assert res.emotion["escalate"] is True
    zh = engine.parse("尾号1234的卡在2024年5月3日被盗刷了500元，我很着急")
    assert {("card_last4", "1234"), ("date", "2024-05-03"), ("amount", "500.00 CNY")} <= {
        (e["entity"], e["value"]) for e in zh.entities
    }


def test_cli_eval_and_emotion_eval_json(tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HOTLINE_MODELS__DIR", str(ROOT / "var" / "models"))
    test = tmp_path / "test.jsonl"
    rows = [
        {
            "text": "my card is gone, I think it was stolen",
            "intent": "report_lost_card",
            "entities": [],
        },
        {"text": "transfer me to a person", "intent": "talk_to_human", "entities": []},
        {"text": "what's the capital of peru", "intent": "out_of_scope", "entities": []},
        {
            "text": "was charged $20 twice",
            "intent": "dispute_charge",
            "entities": [{"entity": "amount", "value": "$20"}],
        },
    ]
    test.write_text("\n".join(json.dumps(r) for r in rows))
    runner = CliRunner()
    res = runner.invoke(
        nlu_app,
        ["eval", "--train", str(DEFAULT_DATA / DEMO_FILES[0]), "--test", str(test), "--json"],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert set(out) == {
        "n",
        "accuracy",
        "macro_f1",
        "in_scope_accuracy",
        "oos_precision",
        "oos_recall",
        "entity_f1",
    }
    assert out["n"] == 4 and out["entity_f1"] == 1.0
    if not DEFAULT_HEAD.with_suffix(".json").exists():
        pytest.skip("no shipped emotion head")
    emo = tmp_path / "emo.jsonl"
    emo.write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {
                    "text": "thanks so much, that's perfect",
                    "emotion": "satisfied",
                    "escalate": False,
                },
                {
                    "text": "this is outrageous, I want your manager now",
                    "emotion": "angry",
                    "escalate": True,
                },
            ]
        )
    )
    res = runner.invoke(emotion_app, ["eval", "--test", str(emo), "--json"])
    assert res.exit_code == 0, res.output
    assert set(json.loads(res.stdout.strip().splitlines()[-1])) == {
        "n",
        "accuracy",
        "macro_f1",
        "escalate_f1",
    }


def test_cli_reports_bad_yaml_with_file_and_line(tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    bad = tmp_path / "nlu.yml"
    bad.write_text("nlu:\n- intent: a\n  examples: |\n    - hi\n    no dash\n")
    res = CliRunner().invoke(nlu_app, ["train", str(bad)])
    assert res.exit_code == 2
    assert f"{bad}:5:" in res.output


async def test_agent_handled_calls_are_understood_and_summed_up(engine):
    """Real models: after routing, customer turns get intent + emotion; each call one summary."""
    from core.bus.memory import MemoryBus
    from core.clock import FrozenClock
    from core.domain import Speaker
    from core.events import ContactEnded, RoutingAssigned, TranscriptFinal
    from nlu.subscriber import UnderstandingSubscriber

    if engine.emotion is None:
        pytest.skip("no emotion head shipped (run make models)")
    bus = MemoryBus()
    seen: list = []

    async def keep(e) -> None:
        seen.append(e)

    bus.subscribe("test", keep, types=["nlu.result", "emotion.result"])
    UnderstandingSubscriber(bus, lambda: engine, clock=FrozenClock()).subscribe()
    await bus.start()
    calls = {
        "en": [
            "this is ridiculous, I have been on hold for an hour, get me your manager",
            "somebody has taken my debit card, please block it",
            "ok thank you, that is really helpful",
        ],
        "zh": ["我的银行卡丢了，麻烦帮我挂失", "太离谱了，扣了我两次钱，我要投诉你们"],
    }
    for cid, lines in calls.items():
        await bus.publish(RoutingAssigned(contact_id=cid, queue="general", agent_id="a1"))
        for text in lines:
            await bus.publish(TranscriptFinal(contact_id=cid, speaker=Speaker.CUSTOMER, text=text))
        await bus.publish(ContactEnded(contact_id=cid))
    for _ in range(3):
        await bus.drain()
    await bus.close()

    def of(cid, kind, scope="utterance"):
        return [
            e for e in seen
            if e.contact_id == cid and e.type == kind and getattr(e, "scope", scope) == scope
        ]  # fmt: skip

    assert [e.intent.name for e in of("en", "nlu.result")][1] == "report_lost_card"
    en = of("en", "emotion.result")
    assert en[0].label in ("angry", "frustrated") and en[0].escalate
    assert en[2].label == "satisfied" and not en[2].escalate
    (en_call,) = of("en", "emotion.result", "call")
    assert en_call.escalate and en_call.peak in ("angry", "frustrated")
    assert en_call.trend == "improving"
    zh = of("zh", "nlu.result")
    assert zh[0].intent.name == "report_lost_card" and zh[0].language == "zh"
    assert of("zh", "emotion.result")[1].label in ("angry", "frustrated")
    (zh_call,) = of("zh", "emotion.result", "call")
    assert zh_call.escalate and zh_call.trend == "worsening"


def test_cli_learns_entities_from_annotations_and_finds_unseen_values(tmp_path):
    """`nlu train` reports the CRF it learned; `nlu eval` scores cities it never saw."""
    cities = ["Paris", "Berlin", "Madrid", "Rome", "Vienna", "Lisbon", "Prague", "Dublin"]
    lines = [
        line
        for c in cities
        for line in (
            f"    - which branch is open in [{c}](city) on saturday",
            f"    - find me a branch in [{c}](city)",
            f"    - is there a cash machine near [{c}](city) station",
        )
    ]
    data = tmp_path / "nlu.yml"
    data.write_text(
        'version: "3.1"\nnlu:\n- intent: find_branch\n  examples: |\n'
        + "\n".join(lines)
        + "\n- intent: check_balance\n  examples: |\n    - what is my balance\n"
        + "    - how much money do I have\n    - show my balance please\n"
    )
    res = CliRunner().invoke(nlu_app, ["train", str(data)])
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout[res.stdout.index("{") :])
    assert info["entity_tagger"]["entities"] == ["city"]
    test = tmp_path / "test.jsonl"
    rows = [
        ("find me a branch in Oslo", "Oslo"),
        ("is there a cash machine near Warsaw station", "Warsaw"),
        ("which branch is open in Helsinki on saturday", "Helsinki"),
    ]
    test.write_text(
        "\n".join(
            json.dumps(
                {"text": t, "intent": "find_branch", "entities": [{"entity": "city", "value": c}]}
            )
            for t, c in rows
        )
    )
    res = CliRunner().invoke(nlu_app, ["eval", "--train", str(data), "--test", str(test), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout.strip().splitlines()[-1])
    # the gazetteer alone finds none of these (0.0); 24 examples teach the CRF most of them
    assert out["accuracy"] == 1.0 and out["entity_f1"] >= 0.8
