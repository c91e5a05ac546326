"""Errors of the channels package.

HotlineError
└── ChannelError                  (channel_error)
    ├── WireFormatError           (wire_format: a malformed or truncated frame/message)
    └── UnsupportedMedia          (unsupported_media: wrong codec or sample rate)
"""

from __future__ import annotations

from core.errors import HotlineError


class ChannelError(HotlineError):
    code = "channel_error"


class WireFormatError(ChannelError):
    code = "wire_format"
    recoverable = True


class UnsupportedMedia(ChannelError):
    code = "unsupported_media"
