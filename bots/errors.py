"""Errors of the bots package.

HotlineError
└── BotError
    ├── FaqFormatError       (faq_format: the FAQ YAML is malformed)
    └── VoiceCallError       (voice_call_failed: a call's pipeline failed)
"""

from __future__ import annotations

from core.errors import HotlineError


class BotError(HotlineError):
    code = "bot_error"


class FaqFormatError(BotError):
    code = "faq_format"


class VoiceCallError(BotError):
    code = "voice_call_failed"
