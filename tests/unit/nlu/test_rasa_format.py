"""Rasa YAML formats: round-trip, annotations, and errors that name file and line."""

from pathlib import Path

import pytest

from nlu.errors import NluDataError
from nlu.rasa_format import (
    Domain,
    Story,
    parse_annotated,
    read_domain_yaml,
    read_nlu_yaml,
    read_stories_yaml,
    write_domain_yaml,
    write_nlu_yaml,
    write_stories_yaml,
)

DATA = Path(__file__).parents[3] / "nlu" / "data"

NLU = """version: "3.1"
nlu:
- intent: check_balance
  examples: |
    - what's my balance
    - balance of account [12345678](account_number) please
    - how much is in my [current account]{"entity": "account_type", "value": "checking"}
- intent: transfer
  examples: |
    - send [$50](amount) to [Bob](person:robert)
    - transfer [100 euros]{"entity": "amount", "role": "source"} now
- synonym: savings
  examples: |
    - rainy day fund
- regex: zipcode
  examples: |
    - \\d{5}
- lookup: city
  examples: |
    - London
    - 北京
"""


def test_reads_intents_entities_synonyms_regexes_lookups():
    data = read_nlu_yaml(NLU)
    assert data.intents == ["check_balance", "transfer"]
    ex = data.examples[1]
    assert ex.text == "balance of account 12345678 please"
    (span,) = ex.entities
    assert (span.entity, span.value, ex.text[span.start : span.end]) == (
        "account_number",
        "12345678",
        "12345678",
    )
    bob = data.examples[3].entities[1]
    assert (bob.entity, bob.value) == ("person", "robert")
    assert data.examples[4].entities[0].role == "source"
    assert data.synonyms["rainy day fund"] == "savings"
    assert data.synonyms["current account"] == "checking"
    assert data.regexes == {"zipcode": [r"\d{5}"]}
    assert data.lookups == {"city": ["London", "北京"]}
    assert data.examples[0].line == 5


def test_round_trip_is_identical():
    data = read_nlu_yaml(NLU)
    again = read_nlu_yaml(write_nlu_yaml(data))
    strip = lambda d: [(e.text, e.intent, e.entities) for e in d.examples]  # noqa: E731
    assert strip(again) == strip(data)
    assert (
        again.synonyms == data.synonyms
        and again.regexes == data.regexes
        and again.lookups == data.lookups
    )
    assert again.fingerprint() == data.fingerprint()


@pytest.mark.parametrize("name", ["demo_bank_en.yml", "demo_bank_zh.yml"])
def test_demo_data_loads_and_round_trips(name):
    data = read_nlu_yaml(DATA / name)
    required = {
        "greet", "goodbye", "affirm", "deny", "check_balance", "report_lost_card", "dispute_charge",
        "branch_hours", "change_address", "complaint", "talk_to_human", "repeat", "go_back", "thanks",  # noqa: E501
        "bot_challenge", "out_of_scope",
    }  # fmt: skip
    assert required <= set(data.intents)
    assert {"amount", "date", "card_last4", "account_number", "phone"} <= set(data.entity_names)
    assert min(data.counts().values()) >= 10
    assert read_nlu_yaml(write_nlu_yaml(data)).fingerprint() == data.fingerprint()


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (
            "version: '3.1'\nnlu:\n- intent: a\n  examples: |\n    - hi\n  - bad: [\n",
            6,
            "malformed YAML",
        ),
        ("version: '9.9'\nnlu: []\n", 1, "unsupported format version"),
        (
            "nlu:\n- intent: a\n  examples: |\n    - hi\n    oops no dash\n",
            5,
            "must start with '- '",
        ),
        ("nlu:\n- intent: a\n", 2, "has no examples"),
        ("nlu:\n- intent: a\n  synonym: b\n  examples: |\n    - x\n", 2, "exactly one of"),
        ("nlu:\n- regex: r\n  examples: |\n    - ([a-z\n", 4, "regex"),
        ('nlu:\n- intent: a\n  examples: |\n    - [x]{"value": 1}\n', 4, 'needs an "entity"'),
    ],
)
def test_errors_name_file_and_line(tmp_path, text, line, fragment):
    f = tmp_path / "nlu.yml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(NluDataError) as err:
        read_nlu_yaml(f)
    assert err.value.file == str(f)
    assert err.value.line == line
    assert fragment in str(err.value)
    assert str(f) in str(err.value)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(NluDataError, match="file not found"):
        read_nlu_yaml(tmp_path / "absent.yml")
    junk = tmp_path / "junk.yml"
    junk.write_bytes(b"\xff\xfe\x00\x81binary")
    with pytest.raises(NluDataError, match="UTF-8"):
        read_nlu_yaml(junk)


def test_parse_annotated_offsets():
    text, spans = parse_annotated("pay [20 dollars](amount) on [friday](date)")
    assert text == "pay 20 dollars on friday"
    assert [(s.entity, text[s.start : s.end]) for s in spans] == [
        ("amount", "20 dollars"),
        ("date", "friday"),
    ]


DOMAIN = """version: "3.1"
intents:
- greet
- check_balance:
    use_entities: true
entities:
- amount
slots:
  amount:
    type: float
    mappings:
    - type: from_entity
      entity: amount
responses:
  utter_greet:
  - text: "Hello! How can I help?"
  - text: "Hi there."
  utter_balance:
  - text: "Your balance is {balance}."
    buttons:
    - title: "Thanks"
      payload: "/thanks"
actions:
- action_check_balance
session_config:
  session_expiration_time: 60
"""


def test_domain_reads_responses_and_round_trips():
    dom = read_domain_yaml(DOMAIN)
    assert dom.intents == ["greet", "check_balance"]
    assert [v["text"] for v in dom.responses["utter_greet"]] == [
        "Hello! How can I help?",
        "Hi there.",
    ]
    assert dom.responses["utter_balance"][0]["buttons"][0]["payload"] == "/thanks"
    assert dom.slots["amount"]["type"] == "float"
    again = read_domain_yaml(write_domain_yaml(dom))
    assert again == dom


def test_domain_response_without_text_names_line():
    with pytest.raises(NluDataError) as err:
        read_domain_yaml("version: '3.1'\nresponses:\n  utter_x:\n  - foo: 1\n")
    assert err.value.line == 3  # the responses block
    assert isinstance(Domain(), Domain)


STORIES = """version: "3.1"
stories:
- story: lost card
  steps:
  - intent: report_lost_card
  - action: utter_ask_last4
  - intent: inform
    entities:
    - card_last4: "1234"
  - action: action_block_card
rules:
- rule: greet
  steps:
  - intent: greet
  - action: utter_greet
"""


def test_stories_and_rules_round_trip():
    stories = read_stories_yaml(STORIES)
    assert [(s.kind, s.name) for s in stories] == [("story", "lost card"), ("rule", "greet")]
    assert stories[0].steps[2]["entities"] == [{"card_last4": "1234"}]
    again = read_stories_yaml(write_stories_yaml(stories))
    assert [(s.kind, s.name, s.steps) for s in again] == [
        (s.kind, s.name, s.steps) for s in stories
    ]
    assert isinstance(again[0], Story)


def test_story_with_bad_step_names_line():
    with pytest.raises(NluDataError) as err:
        read_stories_yaml("stories:\n- story: s\n  steps:\n  - wat: 1\n")
    assert err.value.line == 2
