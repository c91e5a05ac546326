"""The root of Hotline's error tree and the core errors.

Every package has its own ``errors.py`` whose classes derive from :class:`HotlineError`.
Each error carries a stable snake_case ``code`` (mapped to an HTTP status in ``app.py``),
a human ``message`` and, where a retry makes sense, ``recoverable``.

    HotlineError
    ├── ConfigError            bad settings file / value            (config_invalid)
    ├── StoreError             database unreachable or failed        (store_unavailable)
    ├── BusError               bus unreachable or failed             (bus_unavailable)
    ├── NotFoundError          a requested row does not exist        (not_found)
    ├── FeatureDisabled        a switched-off part was used          (feature_disabled)
    ├── ConflictError          the request contradicts stored state  (conflict)
    ├── ValidationFailed       a payload is well-formed but invalid  (invalid_input)
    └── AuthError              bad credentials / missing role        (unauthorized / forbidden)
"""

from __future__ import annotations


class HotlineError(Exception):
    """Base of every error Hotline raises on purpose."""

    code: str = "hotline_error"
    recoverable: bool = False

    def __init__(self, message: str, *, code: str | None = None, recoverable: bool | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if recoverable is not None:
            self.recoverable = recoverable

    def __str__(self) -> str:
        return self.message


class ConfigError(HotlineError):
    code = "config_invalid"


class StoreError(HotlineError):
    code = "store_unavailable"
    recoverable = True


class BusError(HotlineError):
    code = "bus_unavailable"
    recoverable = True


class NotFoundError(HotlineError):
    code = "not_found"


class ConflictError(HotlineError):
    code = "conflict"


class ValidationFailed(HotlineError):
    code = "invalid_input"


class AuthError(HotlineError):
    code = "unauthorized"


class ForbiddenError(AuthError):
    code = "forbidden"


class FeatureDisabled(HotlineError):
    """A model-backed part is switched off in settings (``features.*``)."""

    code = "feature_disabled"
    recoverable = True


class Disabled:
    """Stands in for a switched-off service on ``app.state``: any use raises FeatureDisabled."""

    def __init__(self, feature: str):
        self._feature = feature

    def __getattr__(self, name: str) -> object:
        raise FeatureDisabled(
            f"{self._feature} is switched off (set HOTLINE_FEATURES__{self._feature.upper()}=true)"
        )

    def __bool__(self) -> bool:
        return False
