"""TTS errors.

HotlineError
└── TTSError                         (tts_error)
    ├── TTSModelUnavailable          voice missing or failed to load (tts_model_unavailable)
    ├── UnsupportedLanguage          the voice cannot speak that language (tts_language_unsupported)
    └── SynthesisFailed              the voice raised while synthesizing (tts_synthesis_failed)
"""

from __future__ import annotations

from core.errors import HotlineError


class TTSError(HotlineError):
    code = "tts_error"


class TTSModelUnavailable(TTSError):
    code = "tts_model_unavailable"


class UnsupportedLanguage(TTSError):
    code = "tts_language_unsupported"


class SynthesisFailed(TTSError):
    code = "tts_synthesis_failed"
    recoverable = True
