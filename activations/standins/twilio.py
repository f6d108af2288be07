"""Twilio's Messages resource on loopback.

Follows the published contract (https://www.twilio.com/docs/messaging/api/message-resource):
- `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded, HTTP Basic auth with
  the Account SID and auth token; bad credentials are 401 with code 20003;
- `To` in E.164 (or a `channel:` address), `From` (a number of the account) or
  `MessagingServiceSid`, `Body` up to 1,600 characters, optional `StatusCallback`; each
  violation answers Twilio's code: 21604 no To, 21211 invalid To, 21603 no sender, 21606 a From
  the account does not own, 21602 no Body, 21617 Body too long, 21609 bad StatusCallback,
  21266 To equals From, 21610 a recipient who replied STOP (`opt_out`);
- the magic To numbers of Twilio's test credentials behave as documented
  (https://www.twilio.com/docs/iam/test-credentials): +15005550001 invalid (21211),
  +15005550002 unroutable (21612), +15005550003 no international permission (21408),
  +15005550004 blocked (21610), +15005550009 not SMS-capable (21614);
- an accepted message is 201 with the Message resource (`sid`, `status: queued`, ...) and is
  kept in `messages`. Errors are `{"code", "message", "more_info", "status"}`.
"""

from __future__ import annotations

import base64
import itertools
import re
from email.utils import formatdate
from typing import Any
from urllib.parse import urlsplit

from activations.standins.base import Reply, Request, StandIn

PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages\.json$")
E164 = re.compile(r"^\+[1-9]\d{1,14}$")
MAX_BODY = 1600
MAGIC_TO = {
    "+15005550001": (21211, "The 'To' number +15005550001 is not a valid phone number."),
    "+15005550002": (21612, "The 'To' phone number is not currently reachable via SMS."),
    "+15005550003": (
        21408,
        "Permission to send an SMS has not been enabled for the region indicated by the 'To' "
        "number: +15005550003.",
    ),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (21614, "'To' number is not a valid mobile number"),
}


class TwilioStandIn(StandIn):
    def __init__(
        self,
        *,
        account_sid: str = "AC" + "0" * 31 + "1",
        auth_token: str = "standin-auth-token",
        numbers: set[str] | None = None,
        messaging_services: set[str] | None = None,
    ) -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        self.numbers = numbers if numbers is not None else {"+15005550006"}
        """Senders the account owns (E.164 numbers, short codes, sender ids)."""
        self.messaging_services = messaging_services or set()
        self.opted_out: set[str] = set()
        """Recipients who replied STOP: Twilio refuses further messages to them (21610)."""
        self.messages: list[dict[str, Any]] = []
        """Message resources created, in order."""
        self.status_callbacks: dict[str, str] = {}
        """Message SID -> the StatusCallback URL Twilio would post delivery status to."""
        self._sids = itertools.count(1)
        super().__init__()

    def opt_out(self, number: str) -> None:
        with self.lock:
            self.opted_out.add(number)

    def handle(self, request: Request) -> Reply:
        match = PATH.match(request.path)
        if match is None:
            return _error(404, 20404, f"The requested resource {request.path} was not found")
        if not self._authenticated(request):
            return _error(401, 20003, "Authenticate")
        if match.group(1) != self.account_sid:
            return _error(404, 20404, f"The requested resource {request.path} was not found")
        if request.method != "POST":
            return _error(405, 20004, "Method not allowed")
        if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            return _error(400, 20001, "Content-Type must be application/x-www-form-urlencoded")
        form = {key: values[-1] for key, values in request.form().items()}
        refusal = self._refusal(form)
        if refusal is not None:
            return refusal
        return Reply(201, self._accept(form))

    def _authenticated(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return (user, password) == (self.account_sid, self.auth_token)

    def _refusal(self, form: dict[str, str]) -> Reply | None:
        to, sender, service = form.get("To"), form.get("From"), form.get("MessagingServiceSid")
        body = form.get("Body")
        if not to:
            return _error(400, 21604, "A 'To' phone number is required.")
        if ":" not in to and not E164.match(to):
            return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not sender and not service:
            return _error(400, 21603, "A 'From' phone number is required.")
        if service and service not in self.messaging_services:
            return _error(404, 20404, f"The requested resource /Services/{service} was not found")
        if sender and sender not in self.numbers:
            message = (
                f"The 'From' phone number provided ({sender}) is not a valid message-capable "
                "Twilio phone number for this destination/account"
            )
            return _error(400, 21606, message)
        if not body and not form.get("MediaUrl") and not form.get("ContentSid"):
            return _error(400, 21602, "Message body is required.")
        if body and len(body) > MAX_BODY:
            message = "The concatenated message body exceeds the 1600 character limit."
            return _error(400, 21617, message)
        callback = form.get("StatusCallback")
        if callback is not None and urlsplit(callback).scheme not in ("http", "https"):
            return _error(400, 21609, f"The StatusCallback URL {callback} is not a valid URL.")
        if to == sender:
            return _error(400, 21266, "'To' and 'From' number cannot be the same")
        if to in MAGIC_TO:
            return _error(400, *MAGIC_TO[to])
        if to in self.opted_out:
            return _error(400, 21610, "Attempt to send to unsubscribed recipient")
        return None

    def _accept(self, form: dict[str, str]) -> dict[str, Any]:
        sid = f"SM{next(self._sids):032x}"
        now = formatdate(usegmt=True)
        message = {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form.get("Body", ""),
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": str(max(1, -(-len(form.get("Body", "")) // 153))),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if form.get("MessagingServiceSid") else "queued",
            "to": form["To"],
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }
        self.messages.append(message)
        if form.get("StatusCallback"):
            self.status_callbacks[sid] = form["StatusCallback"]
        return message


def _error(status: int, code: int, message: str) -> Reply:
    return Reply(
        status,
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )
