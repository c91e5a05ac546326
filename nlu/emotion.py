"""Emotion and sentiment per utterance: the product taxonomy plus an ``escalate`` flag.

Taxonomy: angry, frustrated, anxious, sad, neutral, satisfied. The text head is a logistic
regression over the utterance embedding (shared with the intent head, so no extra encoder
pass), VADER scores and a small cue lexicon, trained on GoEmotions with its 28 labels mapped
onto the taxonomy (:data:`GOEMOTIONS_TO_TAXONOMY`) plus 808 weighted contact-centre lines in
English and Mandarin written for this project (``nlu/data/emotion_contact_center*.jsonl``):
Reddit comments alone read callers badly (macro-F1 0.40 on our contact-centre dev lines, 0.77
with them). A second, 28-label multi-label head on the same features (a small MLP, or
one-vs-rest LRs in older builds) serves the GoEmotions benchmark and sees GoEmotions only.

Chinese: the head is trained twice, once on MiniLM and once on multilingual-e5 embeddings of
the same English GoEmotions sentences; e5 maps Chinese and English into one space, so the e5
head transfers to Chinese text. VADER is English-only, so for Chinese a small lexicon
(:data:`ZH_LEXICON`) supplies the polarity features and the escalation cues.

Audio: when prosody is given, arousal (loud, fast, varied pitch) moves probability towards the
high-arousal labels (angry, anxious, frustrated), low arousal towards sad. ``escalate`` fires
on anger, on strong negative frustration, on explicit asks for a supervisor / complaint /
cancellation, or on high vocal arousal with a negative label. Heads trained with the
contact-centre lines learn it instead: a logistic regression on their ``escalate`` flags over
the text features, the cue flag and the label probabilities (5-fold CV over those lines:
escalate F1 0.77, the rule 0.71), still OR-ed with the vocal-arousal rule. The probabilities
it learns from are out-of-fold (nlu/emotion_training.py), so they are as unsure as at serving
time: on the dev lines escalate F1 went 0.76 -> 0.78 (EN 0.78 -> 0.78, ZH 0.75 -> 0.78), and
to 0.82 (EN 0.84, ZH 0.81; labels macro-F1 0.78) with 300 more lines that add calm
escalations and harmless "cancel" / "manager" requests.

The trained head lives in ``nlu/data/emotion_head.{npz,json}`` (built by ``hotline emotion
train``); the product never reads GoEmotions at run time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from models.errors import ModelIncompatible
from nlu.prosody import Prosody

TAXONOMY = ("angry", "frustrated", "anxious", "sad", "neutral", "satisfied")
NEGATIVE = frozenset({"angry", "frustrated", "anxious", "sad"})
FORMAT_VERSION = 1
DEFAULT_HEAD = Path(__file__).parent / "data" / "emotion_head"

GOEMOTIONS_TO_TAXONOMY: dict[str, str] = {
    "anger": "angry", "disgust": "angry",
    "annoyance": "frustrated", "disapproval": "frustrated", "disappointment": "frustrated",
    "confusion": "frustrated",
    "fear": "anxious", "nervousness": "anxious",
    "sadness": "sad", "grief": "sad", "remorse": "sad", "embarrassment": "sad",
    "admiration": "satisfied", "amusement": "satisfied", "approval": "satisfied",
    "caring": "satisfied", "excitement": "satisfied", "gratitude": "satisfied", "joy": "satisfied",
    "love": "satisfied", "optimism": "satisfied", "pride": "satisfied", "relief": "satisfied",
    "neutral": "neutral", "realization": "neutral", "surprise": "neutral", "curiosity": "neutral",
    "desire": "neutral",
}  # fmt: skip
# when one sentence carries several labels, the most actionable one wins
PRIORITY = ("angry", "anxious", "sad", "frustrated", "satisfied", "neutral")

EN_LEXICON: dict[str, tuple[str, ...]] = {
    "angry": ("ridiculous", "outrageous", "unacceptable", "furious", "angry", "pissed", "disgusting",  # noqa: E501
              "scam", "rip off", "ripoff", "damn", "hell", "fuck", "shit", "sick of", "fed up", "worst"),  # noqa: E501
    "frustrated": ("again", "still", "third time", "already told", "waiting", "annoying", "useless",
                   "doesn't work", "not working", "frustrat", "keeps", "every time", "nobody", "why"),  # noqa: E501
    "anxious": ("worried", "scared", "afraid", "nervous", "urgent", "stolen", "fraud", "panic",
                "asap", "emergency", "hacked", "anxious", "help me"),
    "sad": ("sad", "passed away", "died", "lost my job", "depressed", "unfortunately", "upset",
            "heartbroken", "struggling"),
    "satisfied": ("thank", "thanks", "great", "perfect", "awesome", "appreciate", "excellent",
                  "wonderful", "helpful", "love", "happy", "glad"),
}  # fmt: skip
ZH_LEXICON: dict[str, tuple[str, ...]] = {
    "angry": ("气死", "生气", "愤怒", "太过分", "过分", "垃圾", "骗子", "欺诈", "混蛋", "恶心", "什么破",  # noqa: E501
              "凭什么", "受够", "岂有此理", "滚", "坑人", "太差", "最差", "无法接受"),
    "frustrated": ("又", "还是", "一直", "好几次", "等了", "没用", "不行", "怎么回事", "烦", "无语", "麻烦",  # noqa: E501
                   "为什么", "到底", "多少次", "失望", "搞不定"),
    "anxious": ("担心", "害怕", "着急", "急", "紧急", "被盗", "盗刷", "诈骗", "怎么办", "焦虑", "不安", "快点",  # noqa: E501
                "马上", "慌"),
    "sad": ("难过", "伤心", "去世", "失业", "不幸", "痛苦", "心碎", "遗憾", "哭"),
    "satisfied": ("谢谢", "感谢", "太好了", "满意", "不错", "很好", "棒", "好的谢谢", "辛苦", "多谢", "完美",  # noqa: E501
                  "开心", "高兴"),
}  # fmt: skip
# asks for someone senior, a complaint, to cancel/close/leave, or threats of lawyers,
# regulators or the media: escalate whatever the tone (a calm "cancel my account" is churn)
ESCALATION_CUES = (
    "supervisor", "manager", "someone senior", "in charge", "escalate", "lawyer", "attorney",
    "sue ", "legal action", "lawsuit", "complaint", "complain", "cancel", "close my",
    "close the account", "terminate", "switch provider", "switching provider", "report you",
    "regulator", "ombudsman", "trading standards", "better business bureau", "the press",
    "the media", "social media", "real person", "human",
    "经理", "主管", "负责人", "上级", "领导", "投诉", "律师", "起诉", "法院", "销户", "注销",
    "取消", "退订", "解约", "退网", "携号转网", "曝光", "媒体", "举报", "12315", "消协", "监管",
    "工信部", "人工",
)  # fmt: skip
_EXTRA = 4 + len(TAXONOMY) - 1 + 3  # vader(4) + lexicon(5) + shape(3)


def has_escalation_cue(text: str) -> bool:
    low = text.lower()
    return any(c in low for c in ESCALATION_CUES)


def escalate_features(x: np.ndarray, cue: bool, tax_probs: np.ndarray) -> np.ndarray:
    """The escalate head's input: text features, the cue flag and the text-only label probs."""
    return np.concatenate([x, [1.0 if cue else 0.0], tax_probs]).astype(np.float32)


@dataclass
class EmotionResult:
    label: str
    confidence: float
    sentiment: float  # -1 .. +1
    escalate: bool
    scores: dict[str, float] = field(default_factory=dict)
    prosody_arousal: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "confidence": self.confidence,
            "sentiment": self.sentiment,
            "escalate": self.escalate,
            "scores": self.scores,
            "prosody_arousal": self.prosody_arousal,
        }


def _vader() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


class TextFeatures:
    """Hand features next to the embedding: VADER (EN) or lexicon polarity (ZH), cues, shape."""

    def __init__(self) -> None:
        self._vader = _vader()

    def polarity(self, text: str, language: str) -> dict[str, float]:
        if language == "en":
            return self._vader.polarity_scores(text)
        pos = sum(text.count(w) for w in ZH_LEXICON["satisfied"])
        neg = sum(
            text.count(w) for k in ("angry", "frustrated", "anxious", "sad") for w in ZH_LEXICON[k]
        )
        total = pos + neg
        compound = (pos - neg) / np.sqrt(total * total + 4) if total else 0.0
        return {
            "neg": neg / (total + 2),
            "neu": 2 / (total + 2),
            "pos": pos / (total + 2),
            "compound": compound,
        }

    def __call__(self, text: str, language: str) -> np.ndarray:
        pol = self.polarity(text, language)
        low = text.lower()
        lex = ZH_LEXICON if language == "zh" else EN_LEXICON
        hits = [
            min(2.0, float(sum(low.count(w) for w in lex[k]))) / 2
            for k in TAXONOMY
            if k != "neutral"
        ]
        letters = [c for c in text if c.isalpha()]
        caps = sum(c.isupper() for c in letters) / len(letters) if letters else 0.0
        shape = [
            min(3, text.count("!") + text.count("！")) / 3,
            min(3, text.count("?") + text.count("？")) / 3,
            caps,
        ]
        return np.array(
            [pol["neg"], pol["neu"], pol["pos"], pol["compound"], *hits, *shape], dtype=np.float32
        )


def taxonomy_label(goemotion_labels: list[str]) -> str:
    mapped = {GOEMOTIONS_TO_TAXONOMY[g] for g in goemotion_labels if g in GOEMOTIONS_TO_TAXONOMY}
    return next((p for p in PRIORITY if p in mapped), "neutral")


@dataclass
class _LinearHead:
    coef: np.ndarray
    intercept: np.ndarray

    def logits(self, x: np.ndarray) -> np.ndarray:
        return x @ self.coef.T + self.intercept


@dataclass
class _MlpHead:
    """One ReLU hidden layer, then a linear layer (the GoEmotions 28-label head)."""

    hidden: np.ndarray  # (width, n_features)
    hidden_b: np.ndarray  # (width,)
    coef: np.ndarray  # (n_labels, width)
    intercept: np.ndarray  # (n_labels,)

    def logits(self, x: np.ndarray) -> np.ndarray:
        h = np.maximum(x @ self.hidden.T + self.hidden_b, 0.0)
        return h @ self.coef.T + self.intercept


class EmotionClassifier:
    """Per-utterance emotion over the product taxonomy, fused with prosody when there is audio."""

    def __init__(
        self, *, heads: dict[str, dict[str, Any]], meta: dict[str, Any], registry: Any = None
    ):
        self.heads = (
            heads  # embedder name -> {"tax": _LinearHead, "go": _LinearHead, "go_thr": array}
        )
        self.meta = meta
        self.registry = registry
        self.features = TextFeatures()
        self._embedders: dict[str, Any] = {}

    # --- persistence ---------------------------------------------------------------------
    def save(self, base: Path) -> None:
        arrays: dict[str, np.ndarray] = {}
        for emb, h in self.heads.items():
            arrays[f"{emb}|tax_coef"] = h["tax"].coef
            arrays[f"{emb}|tax_b"] = h["tax"].intercept
            arrays[f"{emb}|go_coef"] = h["go"].coef
            arrays[f"{emb}|go_b"] = h["go"].intercept
            if isinstance(h["go"], _MlpHead):
                arrays[f"{emb}|go_hidden"] = h["go"].hidden
                arrays[f"{emb}|go_hidden_b"] = h["go"].hidden_b
            arrays[f"{emb}|go_thr"] = h["go_thr"]
            if "esc" in h:
                arrays[f"{emb}|esc_coef"] = h["esc"].coef
                arrays[f"{emb}|esc_b"] = h["esc"].intercept
        base.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            base.with_suffix(".npz"), **{k: v.astype(np.float16) for k, v in arrays.items()}
        )
        meta = {
            **self.meta,
            "format_version": FORMAT_VERSION,
            "taxonomy": list(TAXONOMY),
            "embedders": list(self.heads),
        }
        base.with_suffix(".json").write_text(json.dumps(meta, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, base: Path = DEFAULT_HEAD, *, registry: Any = None) -> EmotionClassifier:
        """Load a trained head; refuse one built for another format, taxonomy or feature set."""
        try:
            meta = json.loads(base.with_suffix(".json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise ModelIncompatible(
                f"emotion head {base}: missing or unreadable; run `hotline emotion train`"
            ) from e
        if meta.get("format_version") != FORMAT_VERSION:
            raise ModelIncompatible(
                f"emotion head {base}: format {meta.get('format_version')} != {FORMAT_VERSION}"
            )
        if tuple(meta.get("taxonomy", ())) != TAXONOMY or meta.get("extra_features") != _EXTRA:
            raise ModelIncompatible(f"emotion head {base}: taxonomy or features differ; retrain")
        heads: dict[str, dict[str, Any]] = {}
        with np.load(base.with_suffix(".npz")) as z:
            for emb in meta["embedders"]:
                g = {
                    k.split("|", 1)[1]: z[k].astype(np.float32)
                    for k in z.files
                    if k.startswith(emb + "|")
                }
                heads[emb] = {
                    "tax": _LinearHead(g["tax_coef"], g["tax_b"]),
                    "go": _MlpHead(g["go_hidden"], g["go_hidden_b"], g["go_coef"], g["go_b"])
                    if "go_hidden" in g
                    else _LinearHead(g["go_coef"], g["go_b"]),
                    "go_thr": g["go_thr"],
                }
                if "esc_coef" in g:  # heads trained without contact-centre rows have none
                    heads[emb]["esc"] = _LinearHead(g["esc_coef"], g["esc_b"])
        return cls(heads=heads, meta=meta, registry=registry)

    # --- inference -------------------------------------------------------------------------
    def _embed(self, emb_name: str, texts: list[str]) -> np.ndarray:
        from nlu.embedders import make_embedder

        if emb_name not in self._embedders:
            self._embedders[emb_name] = make_embedder(emb_name, registry=self.registry)
        return self._embedders[emb_name].encode(texts)

    def _pick(self, language: str) -> str:
        want = "e5-small-multilingual" if language == "zh" else "minilm-l6-v2"
        return want if want in self.heads else next(iter(self.heads))

    def predict(
        self,
        text: str,
        *,
        language: str = "en",
        prosody: Prosody | None = None,
        embedding: tuple[str, np.ndarray] | None = None,
    ) -> EmotionResult:
        """Emotion of one utterance; ``embedding`` (name, vector) reuses the intent pass."""
        emb_name = self._pick(language)
        if embedding is not None and embedding[0] == emb_name:
            vec = embedding[1]
        else:
            vec = self._embed(emb_name, [text])[0]
        extra = self.features(text, language)
        x = np.concatenate([vec, extra])[None, :]
        logits = self.heads[emb_name]["tax"].logits(x)[0]
        p = np.exp(logits - logits.max())
        p /= p.sum()
        text_p = p
        arousal = None
        if prosody is not None:
            arousal = prosody.arousal()
            p = fuse_prosody(p, arousal)
        i = int(np.argmax(p))
        label = TAXONOMY[i]
        sentiment = float(np.clip(extra[3] * 0.5 + (p[5] - p[:4].sum()) * 0.5, -1, 1))
        cue = has_escalation_cue(text)
        esc_head = self.heads[emb_name].get("esc")
        if esc_head is not None:
            z = float(esc_head.logits(escalate_features(x[0], cue, text_p)[None, :])[0, 0])
            said = z >= 0.0  # p >= 0.5
        else:  # the rule older heads shipped with
            said = (
                (label == "angry" and p[i] >= 0.45)
                or (label == "frustrated" and sentiment <= -0.45)
                or (cue and label != "satisfied")
            )
        escalate = bool(said or (arousal is not None and arousal > 0.6 and label in NEGATIVE))
        return EmotionResult(
            label=label,
            confidence=float(p[i]),
            sentiment=sentiment,
            escalate=escalate,
            scores={k: float(v) for k, v in zip(TAXONOMY, p, strict=True)},
            prosody_arousal=arousal,
        )

    def goemotions_predict(self, texts: list[str], *, language: str = "en") -> np.ndarray:
        """28-label multi-label decisions (bool matrix) for the GoEmotions benchmark."""
        emb_name = self._pick(language)
        vecs = self._embed(emb_name, texts)
        extra = (
            np.stack([self.features(t, language) for t in texts])
            if texts
            else np.zeros((0, _EXTRA))
        )
        x = np.hstack([vecs, extra])
        h = self.heads[emb_name]
        probs = 1 / (1 + np.exp(-h["go"].logits(x)))
        out = probs >= h["go_thr"][None, :]
        none = ~out.any(axis=1)  # every sentence has at least one label
        out[none, probs[none].argmax(axis=1)] = True
        return out


def fuse_prosody(p: np.ndarray, arousal: float) -> np.ndarray:
    """Shift taxonomy probabilities by vocal arousal (-1..1): high -> angry/anxious/frustrated."""
    w = np.ones(len(TAXONOMY))
    if arousal > 0:
        w[[0, 1, 2]] += 1.5 * arousal
        w[[3, 4]] -= 0.5 * arousal
    else:
        w[3] += 1.5 * -arousal
        w[[0, 2]] -= 0.5 * -arousal
    q = p * np.clip(w, 0.05, None)
    return q / q.sum()
