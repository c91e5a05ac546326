"""Structured JSON logs (structlog) with request/contact ids and no PII or secrets.

Every string value goes through :func:`core.masking.mask_text`, and keys that name
credentials are dropped, so a careless ``log.info(..., password=...)`` cannot leak.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from core.masking import mask_text

_SECRET_KEYS = ("password", "secret", "token", "api_key", "authorization", "cookie")


def _scrub(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    for key in list(event):
        if any(s in key.lower() for s in _SECRET_KEYS):
            event[key] = "[redacted]"
        elif isinstance(event[key], str):
            event[key] = mask_text(event[key])
    return event


def _stderr_logger(*_args: Any) -> structlog.PrintLogger:
    """Look sys.stderr up per logger so redirected stderr (tests, daemons) is honoured."""
    return structlog.PrintLogger(sys.stderr)


def configure_logging(*, level: str = "INFO", json: bool = True) -> None:
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=level, force=True)
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _scrub,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
    _quiet_loguru()


def _quiet_loguru() -> None:
    """pipecat logs through loguru at DEBUG, transcripts included: keep only warnings, masked."""
    try:
        from loguru import logger
    except ImportError:
        return
    logger.remove()
    logger.add(lambda msg: sys.stderr.write(mask_text(str(msg))), level="WARNING")
