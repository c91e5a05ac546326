"""The shipped emotion head on contact-centre lines written for this test (EN + ZH)."""

import pytest

from nlu.emotion import DEFAULT_HEAD, EmotionClassifier

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def emotion(registry):
    return EmotionClassifier.load(DEFAULT_HEAD, registry=registry)


@pytest.mark.parametrize(
    ("text", "language", "label", "escalate"),
    [
        ("you lot are a joke, I'm taking this to the ombudsman", "en", "angry", True),
        ("thanks a lot, the refund just showed up, really appreciate it", "en", "satisfied", False),
        ("could you tell me when the branch on king street opens", "en", "neutral", False),
        ("i think someone has been into my account, there are payments i don't know", "en",
         "anxious", False),
        ("my mum died last week and I need to sort out her bank account", "en", "sad", False),
        ("我已经打了四次电话了，每次都说会处理，到现在还是没人管", "zh", "frustrated", None),
        ("你们这是欺诈，我要去消协投诉你们", "zh", "angry", True),
        ("谢谢你，问题解决了，服务很好", "zh", "satisfied", False),
        ("请问怎么修改账单地址", "zh", "neutral", False),
    ],
)  # fmt: skip
def test_contact_centre_lines(emotion, text, language, label, escalate):
    got = emotion.predict(text, language=language)
    assert got.label == label, got.scores
    if escalate is not None:
        assert got.escalate is escalate


def test_a_calm_request_to_cancel_still_escalates(emotion):
    got = emotion.predict("I'd like to cancel my broadband contract please", language="en")
    assert got.label != "satisfied"
    assert got.escalate
