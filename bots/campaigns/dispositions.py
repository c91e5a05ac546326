"""Dispositions: what one attempt ended as, and what that means for the contact.

A disposition is either *retryable* (no answer, busy, voicemail, abandoned, dialer error:
try again after the campaign's interval for that outcome, up to ``max_attempts``) or *final*
(a conversation happened, the number is invalid, or the person opted out). Conversions are the
final outcomes a campaign exists for (promise to pay, confirmed, survey completed).
"""

from __future__ import annotations

from enum import StrEnum


class Disposition(StrEnum):
    ANSWERED_HUMAN = "answered_human"
    VOICEMAIL = "voicemail"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    INVALID = "invalid"
    DNC = "dnc"
    OPT_OUT = "opt_out"
    PROMISE_TO_PAY = "promise_to_pay"
    CONFIRMED = "confirmed"
    SURVEY_COMPLETED = "survey_completed"
    TRANSFERRED = "transferred"
    CALLBACK_REQUESTED = "callback_requested"
    ABANDONED = "abandoned"
    FAILED = "failed"
    DIALER_ERROR = "dialer_error"
    UNKNOWN = "unknown"


RETRYABLE: frozenset[Disposition] = frozenset(
    {
        Disposition.NO_ANSWER,
        Disposition.BUSY,
        Disposition.VOICEMAIL,
        Disposition.ABANDONED,
        Disposition.FAILED,
        Disposition.DIALER_ERROR,
        Disposition.UNKNOWN,
        Disposition.CALLBACK_REQUESTED,
    }
)
CONVERSIONS: frozenset[Disposition] = frozenset(
    {Disposition.PROMISE_TO_PAY, Disposition.CONFIRMED, Disposition.SURVEY_COMPLETED}
)
CONNECTED: frozenset[Disposition] = frozenset(
    {
        Disposition.ANSWERED_HUMAN,
        Disposition.OPT_OUT,
        Disposition.PROMISE_TO_PAY,
        Disposition.CONFIRMED,
        Disposition.SURVEY_COMPLETED,
        Disposition.TRANSFERRED,
        Disposition.CALLBACK_REQUESTED,
    }
)
# A dialer error never reached the callee, so it does not use up one of ``max_attempts``.
NOT_AN_ATTEMPT: frozenset[Disposition] = frozenset({Disposition.DIALER_ERROR})


def retry_key(disposition: Disposition) -> str:
    """The key of ``RetryPolicy.intervals_min`` used for this outcome."""
    if disposition in {Disposition.NO_ANSWER, Disposition.BUSY, Disposition.VOICEMAIL}:
        return disposition.value
    if disposition is Disposition.CALLBACK_REQUESTED:
        return "callback"
    return "other"
