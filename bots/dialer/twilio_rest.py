"""Twilio-compatible REST dialer: ``POST /2010-04-01/Accounts/{AccountSid}/Calls.json``.

Built from Twilio's published Programmable Voice API (and what compatible carriers, e.g.
SignalWire and Telnyx TeXML, accept): form-encoded ``To``, ``From``, ``Twiml`` (or ``Url``),
``StatusCallback`` with ``StatusCallbackEvent=initiated ringing answered completed``.
Outcomes come back as form POSTs to the status callback (``CallStatus``: ringing,
in-progress, completed, busy, no-answer, failed, canceled; ``AnsweredBy`` when machine
detection is on), verified with ``X-Twilio-Signature`` (HMAC-SHA1 of URL + sorted params,
keyed by the auth token). Hang-up is ``POST Calls/{Sid}.json`` with ``Status=completed``.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

import httpx

from bots.campaigns.errors import DialerError
from bots.dialer.base import CallStatus, CallUpdate, DialRequest, UpdateHandler
from core.twilio_signature import valid

_STATUS: dict[str, CallStatus] = {
    "ringing": CallStatus.RINGING,
    "in-progress": CallStatus.ANSWERED,
    "answered": CallStatus.ANSWERED,
    "busy": CallStatus.BUSY,
    "no-answer": CallStatus.NO_ANSWER,
    "failed": CallStatus.FAILED,
    "canceled": CallStatus.NO_ANSWER,
    "completed": CallStatus.COMPLETED,
}
# REST error codes that mean "this number can never be called" (21211 invalid To, 21217).
_INVALID_CODES = {21211, 21214, 21217, 21401, 13224}


def stream_twiml(media_url: str, parameters: dict[str, str]) -> str:
    """TwiML connecting the answered call to our media-stream websocket (channels/)."""
    params = "".join(
        f"<Parameter name={quoteattr(k)} value={quoteattr(str(v))}/>" for k, v in parameters.items()
    )
    return (
        f"<Response><Connect><Stream url={quoteattr(media_url)}>{params}</Stream>"
        "</Connect></Response>"
    )


class TwilioRestDialer:
    """Dialer over a Twilio-compatible REST API; status callbacks arrive via handle_callback."""

    name = "twilio_rest"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        status_callback_url: str,
        media_stream_url: str,
        api_base: str = "https://api.twilio.com",
        machine_detection: bool = False,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.account_sid = account_sid
        self._token = auth_token
        self.status_callback_url = status_callback_url
        self.media_stream_url = media_stream_url
        self.api_base = api_base.rstrip("/")
        self.machine_detection = machine_detection
        self._client = client or httpx.AsyncClient(timeout=10.0)
        self._handler: UpdateHandler | None = None

    def set_handler(self, handler: UpdateHandler) -> None:
        self._handler = handler

    @property
    def _calls_url(self) -> str:
        return f"{self.api_base}/2010-04-01/Accounts/{self.account_sid}/Calls"

    async def originate(self, request: DialRequest) -> str:
        form: dict[str, str | list[str]] = {
            "To": request.to,
            "From": request.caller_id,
            "Twiml": stream_twiml(
                self.media_stream_url,
                {
                    "campaign_id": request.campaign_id,
                    "contact_id": request.contact_id,
                    "attempt_id": request.attempt_id,
                },
            ),
            "StatusCallback": f"{self.status_callback_url}?attempt={request.attempt_id}",
            "StatusCallbackMethod": "POST",
            "StatusCallbackEvent": ["initiated", "ringing", "answered", "completed"],
            "Timeout": str(request.ring_timeout_s),
        }
        if self.machine_detection:
            form["MachineDetection"] = "Enable"
        try:
            r = await self._client.post(
                f"{self._calls_url}.json", data=form, auth=(self.account_sid, self._token)
            )
        except httpx.HTTPError as e:
            raise DialerError(f"call-create to {request.to} failed: {e!r}") from e
        if r.status_code >= 400:
            try:
                code = int(r.json().get("code", 0))
            except ValueError:
                code = 0
            err = DialerError(
                f"call-create to {request.to} refused: HTTP {r.status_code} code {code}",
                code="dialer_invalid_number" if code in _INVALID_CODES else None,
                recoverable=r.status_code >= 500 or r.status_code == 429,
            )
            raise err
        try:
            return str(r.json()["sid"])
        except (ValueError, KeyError) as e:
            raise DialerError(f"call-create to {request.to}: no sid in reply") from e

    async def hangup(self, call_id: str) -> None:
        try:
            r = await self._client.post(
                f"{self._calls_url}/{call_id}.json",
                data={"Status": "completed"},
                auth=(self.account_sid, self._token),
            )
        except httpx.HTTPError as e:
            raise DialerError(f"hangup {call_id} failed: {e!r}") from e
        if r.status_code >= 400 and r.status_code != 404:
            raise DialerError(f"hangup {call_id}: HTTP {r.status_code}")

    def verify(self, url: str, params: dict[str, str], sig: str | None) -> bool:
        return valid(self._token, [url], sig, params)

    async def handle_callback(self, params: dict[str, str], *, attempt_id: str | None) -> None:
        """Turn one status callback into a CallUpdate for the scheduler."""
        status = _STATUS.get(params.get("CallStatus", ""))
        if status is None or self._handler is None:
            return
        answered_by = params.get("AnsweredBy") or None
        if answered_by:
            answered_by = "machine" if answered_by.startswith(("machine", "fax")) else "human"
        await self._handler(
            CallUpdate(
                params.get("CallSid", ""),
                status,
                answered_by=answered_by,
                cause=params.get("SipResponseCode", ""),
                attempt_id=attempt_id,
            )
        )

    async def close(self) -> None:
        await self._client.aclose()
