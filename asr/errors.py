"""ASR errors, one class per failure a caller can act on (HA ``assist_pipeline`` style).

HotlineError
└── ASRError                         (asr_error)
    ├── AudioDecodeError        corrupt, truncated or unknown audio     (audio_decode_failed)
    ├── UnsupportedLanguage     the model cannot transcribe that language (asr_language_unsupported)
    ├── ASRModelUnavailable     model missing / not prepared / unloadable (asr_model_unavailable)
    └── TranscriptionFailed     the model raised while decoding      (asr_transcription_failed)
"""

from __future__ import annotations

from core.errors import HotlineError


class ASRError(HotlineError):
    code = "asr_error"


class AudioDecodeError(ASRError):
    code = "audio_decode_failed"


class UnsupportedLanguage(ASRError):
    code = "asr_language_unsupported"


class ASRModelUnavailable(ASRError):
    code = "asr_model_unavailable"


class TranscriptionFailed(ASRError):
    code = "asr_transcription_failed"
    recoverable = True
