from pathlib import Path

import pytest

from assist.errors import AssistConfigInvalid
from assist.scripts import load_scripts, pick

BOOK = load_scripts()


@pytest.mark.parametrize(
    ("label", "intent"),
    [("lost_card", "lost_card"), ("lost_or_stolen_card", "lost_card"),
     ("activate_my_card", "card_activation"), ("Refund_not_showing_up", "dispute"),
     ("refund_not_showing_up", "dispute"), ("weather", None), (None, None)],
)  # fmt: skip
def test_resolve_aliases(label: str | None, intent: str | None):
    assert BOOK.resolve(label) == intent


def test_next_step_follows_what_the_agent_has_done():
    assert BOOK.next_step("lost_card", set()).step == "verify"
    assert BOOK.next_step("lost_or_stolen_card", {"verify"}).step == "block_card"
    steps = [s.step for s in BOOK.intents["lost_card"].steps]
    assert BOOK.next_step("lost_card", set(steps)) is None
    assert BOOK.next_step("no_such_intent", set()).step == "clarify"  # default script


@pytest.mark.parametrize(
    ("intent", "text", "steps"),
    [
        ("lost_card", "OK, the card is blocked now.", {"block_card"}),
        ("lost_card", "好的，已经为您挂失成功。", {"block_card"}),
        ("complaint", "I've logged your complaint, your reference is C-12.", {"log"}),
        ("investment", "理财非存款，投资须谨慎。购买前请完成风险承受能力评估。",
         {"risk_warning", "assessment"}),
        ("lost_card", "How is the weather?", set()),
    ],
)  # fmt: skip
def test_steps_said(intent: str, text: str, steps: set[str]):
    assert BOOK.steps_said(intent, text) == steps


def test_every_script_speaks_both_languages():
    for script in BOOK.intents.values():
        for step in script.steps:
            assert {"en", "zh"} <= set(step.say) and {"en", "zh"} <= set(step.action), step
    for title, say in BOOK.deescalation.values():
        assert {"en", "zh"} <= set(title) and {"en", "zh"} <= set(say)
    assert pick({"en": "hi"}, "zh") == "hi"


def test_bad_scripts_file_names_the_item(tmp_path: Path):
    bad = tmp_path / "scripts.yaml"
    bad.write_text("version: 1\nintents:\n  x:\n    reason: {en: X}\n    steps: []\n")
    with pytest.raises(AssistConfigInvalid, match=r"intents\.x"):
        load_scripts(bad)
