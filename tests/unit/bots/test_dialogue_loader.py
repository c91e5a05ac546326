"""Flow files: schema validation with file/flow/step paths, dangling links, hot reload."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bots.dialogue.errors import FlowFormatError
from bots.dialogue.loader import DEFAULT_FLOWS_DIR, FlowLibrary, load_flows, parse_flow_file

MINI = """
version: "1"
responses:
  utter_fallback: {en: "sorry", zh: "抱歉"}
  utter_hi: {en: ["hi", "hello"], zh: "你好"}
flows:
  hello:
    trigger: {intents: [greet]}
    steps:
      - id: one
        say: utter_hi
        next: two
      - id: two
        confirm: utter_hi
        yes: end
        no: one
"""


def test_demo_flows_load_and_cover_every_demo_intent() -> None:
    book = load_flows(DEFAULT_FLOWS_DIR)
    triggers = {i for f in book.flows.values() for i in f.trigger.intents}
    for intent in (
        "check_balance",
        "report_lost_card",
        "dispute_charge",
        "branch_hours",
        "change_address",
        "complaint",
        "greet",
        "goodbye",
        "thanks",
        "bot_challenge",
    ):
        assert intent in triggers, intent
    for resp in book.responses.values():
        assert set(resp.text) == {"en", "zh"}  # every response is bilingual


def test_yes_no_on_keys_stay_strings() -> None:
    ff = parse_flow_file(MINI, "mini.yaml")
    step = ff.flows["hello"].steps[1]
    assert (step.yes, step.no) == ("end", "one")


def test_dangling_step_is_rejected_with_its_path(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(MINI.replace("no: one", "no: nowhere"), encoding="utf-8")
    with pytest.raises(FlowFormatError) as e:
        load_flows(tmp_path)
    msg = str(e.value)
    assert "bad.yaml" in msg and "flows.hello.steps.two" in msg and "'nowhere'" in msg


def test_unknown_response_and_missing_version_are_named(tmp_path: Path) -> None:
    with pytest.raises(FlowFormatError, match="version"):
        parse_flow_file("flows: {}", "x.yaml")
    (tmp_path / "r.yaml").write_text(MINI.replace("say: utter_hi", "say: utter_nope"), "utf-8")
    with pytest.raises(FlowFormatError, match=r"flows\.hello\.steps\.one.*utter_nope"):
        load_flows(tmp_path)


def test_schema_error_names_step_id(tmp_path: Path) -> None:
    bad = MINI.replace("        say: utter_hi\n        next: two", "        next: two")
    with pytest.raises(FlowFormatError) as e:
        parse_flow_file(bad, "s.yaml")
    assert "s.yaml" in str(e.value) and "steps.one" in str(e.value)


def test_hot_reload_keeps_old_flows_on_error_and_takes_good_edits(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text(MINI, encoding="utf-8")
    lib = FlowLibrary(tmp_path)
    assert lib.refresh() is False
    f.write_text(MINI.replace("no: one", "no: ghost"), encoding="utf-8")
    os.utime(f, ns=(1, 1))  # a distinct mtime even on coarse filesystems
    assert lib.refresh() is False
    assert lib.errors and "ghost" in lib.errors[0]
    assert "hello" in lib.book.flows  # the old set keeps serving
    f.write_text(MINI.replace("hello:", "hola:"), encoding="utf-8")
    os.utime(f, ns=(2, 2))
    assert lib.refresh() is True
    assert lib.errors == [] and "hola" in lib.book.flows and lib.reloads == 1


def test_duplicate_flow_across_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(MINI, encoding="utf-8")
    shutil.copy(tmp_path / "a.yaml", tmp_path / "b.yaml")
    with pytest.raises(FlowFormatError, match="also defined"):
        load_flows(tmp_path)
