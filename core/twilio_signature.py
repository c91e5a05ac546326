"""Twilio request signatures (``X-Twilio-Signature``), shared by every Twilio edge.

Twilio signs each webhook and each Media Streams websocket handshake: base64 of HMAC-SHA1,
keyed by the account's auth token, over the full URL it called followed by the sorted POST
parameters (none for a websocket). It lives in core because both the dialer's status
callback (bots) and the media stream (channels) check it, and those two never import each
other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping


def signature(auth_token: str, url: str, params: Mapping[str, str] | None = None) -> str:
    """Twilio's signature over ``url`` and the sorted POST parameters."""
    params = params or {}
    payload = url + "".join(k + params[k] for k in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def valid(
    auth_token: str,
    urls: Iterable[str],
    given: str | None,
    params: Mapping[str, str] | None = None,
) -> bool:
    """True when ``given`` is the signature of one of ``urls`` (the URL as Twilio saw it may
    differ from ours behind a proxy: scheme, host), compared in constant time."""
    if not auth_token or not given:
        return False
    return any(hmac.compare_digest(signature(auth_token, u, params), given) for u in urls)
