"""Understanding: intents (+ out-of-scope), entities and emotion, EN and ZH, on Rasa-format data.

Entry points: :class:`nlu.engine.NluEngine`, :mod:`nlu.rasa_format`, :class:`nlu.emotion.
EmotionClassifier`, :func:`nlu.prosody.extract_prosody`, :func:`nlu.api.build_router`, and the
Typer apps ``nlu_app`` / ``emotion_app`` in :mod:`nlu.commands`. Importing is cheap: models
load on first use through the registry.
"""
