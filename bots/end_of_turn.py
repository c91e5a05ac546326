"""Smart-turn v3 end-of-turn classifier, one ONNX session per process shared by every call.

pipecat's ``LocalSmartTurnAnalyzerV3`` opens an ONNX session per analyzer (per call) and keeps
turn state inside it; Hotline keeps the turn state in ``TurnTaker`` and shares one session
(onnxruntime sessions are thread-safe), loaded from the registry's sha256-checked file.
The features are pipecat's own Whisper log-mel, so scores match the stock analyzer.
"""

from __future__ import annotations

import numpy as np

from models import Registry

MODEL_RATE_HZ = 16_000
WINDOW_S = 8


class SmartTurnModel:
    """Probability that a caller's turn is complete, from the last 8 s of its audio."""

    def __init__(self, registry: Registry, *, name: str = "smart-turn-v3", cpu_threads: int = 1):
        self.registry = registry
        self.name = name
        self.cpu_threads = cpu_threads

    def _load(self) -> object:
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.inter_op_num_threads = 1
        so.intra_op_num_threads = self.cpu_threads
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        return ort.InferenceSession(str(self.registry.path(self.name)), sess_options=so)

    @property
    def session(self) -> object:
        return self.registry.shared(("bots.smart_turn", self.name), self._load)

    def warm_up(self) -> None:
        self.predict(np.zeros(MODEL_RATE_HZ, dtype=np.float32))

    def predict(self, audio_f32: np.ndarray) -> float:
        """P(turn complete) for 16 kHz float audio (blocking; run in a worker thread)."""
        from pipecat.audio.turn.smart_turn._whisper_features import (
            compute_whisper_log_mel_features,
        )

        n = WINDOW_S * MODEL_RATE_HZ
        audio = audio_f32[-n:]
        if audio.size < n:
            audio = np.pad(audio, (n - audio.size, 0))
        mel = compute_whisper_log_mel_features(audio, do_normalize=True)
        out = self.session.run(None, {"input_features": np.expand_dims(mel, 0)})  # type: ignore[attr-defined]
        return float(np.asarray(out[0]).reshape(-1)[0])
