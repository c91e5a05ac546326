"""CLI for the NLU engine: ``hotline nlu parse/train/eval`` and ``hotline emotion train/eval``.

Two Typer apps, mounted by ``cli.py``: :data:`nlu_app` and :data:`emotion_app`. Errors of
ours print their message and exit 2 (bad data names file and line); nothing is half-written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from core.errors import HotlineError

nlu_app = typer.Typer(
    help="Intents, entities and emotion (Rasa-format data).", no_args_is_help=True
)
emotion_app = typer.Typer(
    help="Emotion / sentiment head: train and evaluate.", no_args_is_help=True
)

DEFAULT_DATA = Path(__file__).parent / "data"
DEMO_FILES = ("demo_bank_en.yml", "demo_bank_zh.yml")


def _registry() -> Any:
    from core.settings import Settings
    from models import CATALOG, Registry

    settings = Settings()
    return Registry(CATALOG, models_dir=settings.models_dir), settings.data_dir / "nlu"


def _fail(e: Exception) -> None:
    typer.echo(f"error: {e}", err=True)
    raise typer.Exit(2)


def _load_data(path: Path | None) -> Any:
    from nlu.corpora import read_any
    from nlu.rasa_format import read_nlu_yaml

    if path is None:
        data = read_nlu_yaml(DEFAULT_DATA / DEMO_FILES[0])
        for f in DEMO_FILES[1:]:
            data = data.merge(read_nlu_yaml(DEFAULT_DATA / f))
        return data
    return read_any(path)


def _emotion(registry: Any, head: Path | None) -> Any:
    from nlu.emotion import DEFAULT_HEAD, EmotionClassifier

    base = head or DEFAULT_HEAD
    if not base.with_suffix(".json").exists():
        return None
    return EmotionClassifier.load(base, registry=registry)


FinetuneLayers = Annotated[
    int,
    typer.Option(
        "--finetune-layers",
        help="Tune MiniLM's top N layers for the English intent pick (0 = frozen; "
        "pays on ~100 examples an intent, minutes of CPU)",
    ),
]
FinetuneEpochs = Annotated[int, typer.Option("--finetune-epochs", help="Epochs of tuning")]


def _config(finetune_layers: int, finetune_epochs: int) -> Any:
    """None (per-language defaults) unless tuning is asked for (the engine still reads
    Chinese by characters)."""
    from nlu.intents import HeadConfig

    if not finetune_layers:
        return None
    return HeadConfig(finetune_layers=finetune_layers, finetune_epochs=finetune_epochs)


def _train(
    data_path: Path | None,
    language: str,
    *,
    with_emotion: bool = True,
    finetune_layers: int = 0,
    finetune_epochs: int = 3,
) -> Any:
    from nlu.engine import NluEngine

    registry, cache = _registry()
    data = _load_data(data_path)
    emotion = _emotion(registry, None) if with_emotion else None
    return NluEngine.train(
        data,
        registry=registry,
        language=language,
        cache_dir=cache,
        emotion=emotion,
        config=_config(finetune_layers, finetune_epochs),
    )


@nlu_app.command("parse")
def parse_cmd(
    text: Annotated[str, typer.Argument(help="Utterance to understand")],
    data: Annotated[
        Path | None, typer.Option(help="Training data (nlu.yml, dir, CSV); default: demo bank")
    ] = None,
    language: Annotated[str | None, typer.Option(help="en | zh; default: detect")] = None,
) -> None:
    """Parse one utterance and print the Rasa ``/model/parse`` JSON (+ emotion)."""
    try:
        engine = _train(data, "auto")
        result = engine.parse(text, language=language)
    except HotlineError as e:
        _fail(e)
    typer.echo(json.dumps(result.to_rasa_dict(), ensure_ascii=False, indent=2))


@nlu_app.command("train")
def train_cmd(
    data: Annotated[Path, typer.Argument(help="nlu.yml, a folder of Rasa YAML, CSV or CLINC JSON")],
    language: Annotated[str, typer.Option(help="en | zh | auto")] = "auto",
    finetune_layers: FinetuneLayers = 0,
    finetune_epochs: FinetuneEpochs = 3,
) -> None:
    """Train (or reuse from cache) a model for DATA and print where it is stored."""
    try:
        engine = _train(
            data,
            language,
            with_emotion=False,
            finetune_layers=finetune_layers,
            finetune_epochs=finetune_epochs,
        )
    except HotlineError as e:
        _fail(e)
    info = {
        "path": engine.meta["path"],
        "fingerprint": engine.meta["fingerprint"],
        "heads": {
            lang: {
                "intents": len(h.labels),
                "oos_threshold": h.threshold,
                **h.calibration,
                **{k: v for k, v in engine.meta["heads"][lang].items() if k == "finetune"},
            }
            for lang, h in engine.heads.items()
        },
        **(
            {"entity_tagger": engine.meta["entity_tagger"]}
            if "entity_tagger" in engine.meta
            else {}
        ),
    }
    typer.echo(json.dumps(info, ensure_ascii=False, indent=2))


@nlu_app.command("eval")
def eval_cmd(
    train: Annotated[Path, typer.Option("--train", help="nlu.yml, CSV text,label or CLINC JSON")],
    test: Annotated[Path, typer.Option("--test", help="JSONL {text,intent,entities} or CSV")],
    language: Annotated[str | None, typer.Option(help="en | zh; default: by script")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    finetune_layers: FinetuneLayers = 0,
    finetune_epochs: FinetuneEpochs = 3,
) -> None:
    """Train on TRAIN, score on TEST: accuracy, macro-F1, in-scope accuracy, OOS P/R, entity F1."""
    from nlu.corpora import read_any
    from nlu.engine import NluEngine
    from nlu.evaluation import evaluate_intents

    try:
        registry, cache = _registry()
        engine = NluEngine.train(
            read_any(train),
            registry=registry,
            language=language or "auto",
            cache_dir=cache,
            config=_config(finetune_layers, finetune_epochs),
        )
        metrics = evaluate_intents(engine, read_any(test), language=language)
    except HotlineError as e:
        _fail(e)
    _print(metrics, as_json)


@emotion_app.command("train")
def emotion_train_cmd(
    goemotions: Annotated[
        Path, typer.Option("--goemotions", help="GoEmotions folder with train.tsv")
    ],
    out: Annotated[Path, typer.Option(help="Head path without suffix")] = DEFAULT_DATA
    / "emotion_head",
) -> None:
    """Fit the emotion head on GoEmotions (mapped to the product taxonomy) and save it."""
    from nlu.emotion_training import train_emotion_head

    try:
        registry, cache = _registry()
        clf = train_emotion_head(goemotions, registry=registry, cache_dir=cache)
        clf.save(out)
    except HotlineError as e:
        _fail(e)
    typer.echo(json.dumps({"saved": str(out.with_suffix(".npz")), **clf.meta["n_train"]}))


@emotion_app.command("eval")
def emotion_eval_cmd(
    test: Annotated[
        Path | None, typer.Option("--test", help="JSONL {text, emotion, escalate}")
    ] = None,
    goemotions: Annotated[
        Path | None, typer.Option("--goemotions", help="GoEmotions TSV split")
    ] = None,
    head: Annotated[
        Path | None, typer.Option(help="Emotion head path (default: shipped head)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Score the emotion head on a taxonomy JSONL file or on GoEmotions (28-label macro-F1)."""
    from nlu.evaluation import evaluate_emotion, evaluate_goemotions, read_emotion_jsonl

    if (test is None) == (goemotions is None):
        _fail(ValueError("give exactly one of --test or --goemotions"))
    try:
        registry, _ = _registry()
        clf = _emotion(registry, head)
        if clf is None:
            _fail(ValueError("no emotion head; run `hotline emotion train --goemotions DIR` first"))
        if test is not None:
            metrics = evaluate_emotion(clf, read_emotion_jsonl(test))
        else:
            metrics = evaluate_goemotions(clf, goemotions)
    except HotlineError as e:
        _fail(e)
    _print(metrics, as_json)


def _print(metrics: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(metrics))
        return
    for k, v in metrics.items():
        typer.echo(f"{k:>18}: {v if not isinstance(v, float) else f'{v:.4f}'}")
    sys.stdout.flush()
