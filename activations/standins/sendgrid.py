"""SendGrid's v3 Mail Send endpoint on loopback.

Follows the published contract (https://www.twilio.com/docs/sendgrid/api-reference/mail-send):
- `POST /v3/mail/send` with `Authorization: Bearer <API key>` and a JSON body; a key it does
  not know is 401, a key without the `mail.send` scope 403, a sender outside the verified
  Sender Identities 403;
- the body is checked like SendGrid's validator (the messages of its Errors page,
  https://www.twilio.com/docs/sendgrid/api-reference/mail-send/errors): personalizations (at
  least one, at most 1,000, recipients at most 1,000, each address valid and unique), `from`,
  `subject`, `content` (text/plain first, then text/html, each once, values not empty),
  `headers` (strings, no reserved header), `custom_args` (strings, at most 10,000 bytes),
  `categories` (at most 10, 255 characters each); every problem is reported at once as
  `{"errors": [{"message", "field", "help"}]}` with 400, a body over 30 MB is 413;
- an accepted message is 202 with an empty body and `X-Message-Id`, and is kept in
  `messages`; every answer carries `X-RateLimit-Limit`, `-Remaining` and `-Reset`, and
  requests past `rate_limit` in its window get 429 "too many requests".
"""

from __future__ import annotations

import itertools
import json
import re
import time
from dataclasses import dataclass
from typing import Any

from activations.standins.base import Reply, Request, StandIn

HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"
RESERVED_HEADERS = frozenset(
    {"x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type",
     "content-transfer-encoding", "to", "from", "subject", "reply-to", "cc", "bcc"}
)  # fmt: skip
MAX_BYTES = 30 * 1024 * 1024
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


@dataclass
class Accepted:
    message_id: str
    body: dict[str, Any]

    @property
    def to(self) -> list[str]:
        return [r["email"] for p in self.body["personalizations"] for r in p.get("to", [])]

    @property
    def idempotency_key(self) -> str | None:
        return (self.body.get("custom_args") or {}).get("waymark_idempotency_key")


class SendgridStandIn(StandIn):
    def __init__(
        self,
        *,
        api_key: str = "SG.standin-key",
        verified_senders: set[str] | None = None,
        rate_limit: int = 10_000,
        rate_window: float = 1.0,
    ) -> None:
        self.api_keys = {api_key: True}
        """Key -> whether it has the `mail.send` scope."""
        self.verified_senders = verified_senders
        """Sender addresses allowed in `from`; None allows any."""
        self.rate_limit, self.rate_window = rate_limit, rate_window
        self.window_started, self.window_requests = time.time(), 0
        self.messages: list[Accepted] = []
        self._ids = itertools.count(1)
        super().__init__()

    def handle(self, request: Request) -> Reply:
        if request.path != "/v3/mail/send":
            return _errors(404, [(None, "not found")])
        if request.method != "POST":
            return _errors(405, [(None, "method not allowed")])
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        if key not in self.api_keys:
            message = "The provided authorization grant is invalid, expired, or revoked"
            return _errors(401, [(None, message)])
        if not self.api_keys[key]:
            return _errors(403, [(None, "access forbidden")])
        limited = self._count_request()
        if limited is not None:
            return limited
        if len(request.body) > MAX_BYTES:
            return self._limited(_errors(413, [(None, "payload too large")]))
        if not request.headers.get("content-type", "").startswith("application/json"):
            return self._limited(_errors(415, [(None, "Content-Type should be application/json")]))
        try:
            body = request.json()
        except ValueError:
            return self._limited(_errors(400, [(None, "Bad Request")]))
        problems = validate(body if isinstance(body, dict) else {})
        if problems:
            return self._limited(_errors(400, problems))
        sender = body["from"]["email"].lower()
        if self.verified_senders is not None and sender not in self.verified_senders:
            message = (
                "The from address does not match a verified Sender Identity. Mail cannot be "
                "sent until this error is resolved."
            )
            return self._limited(_errors(403, [("from", message)]))
        message_id = f"standin{next(self._ids):016d}"
        self.messages.append(Accepted(message_id, body))
        return self._limited(Reply(202, b"", {"X-Message-Id": message_id}))

    def _count_request(self) -> Reply | None:
        now = time.time()
        if now - self.window_started >= self.rate_window:
            self.window_started, self.window_requests = now, 0
        self.window_requests += 1
        if self.window_requests > self.rate_limit:
            return self._limited(_errors(429, [(None, "too many requests")]))
        return None

    def _limited(self, reply: Reply) -> Reply:
        reset = int(self.window_started + self.rate_window + 0.999)
        reply.headers.update(
            {
                "X-RateLimit-Limit": str(self.rate_limit),
                "X-RateLimit-Remaining": str(max(0, self.rate_limit - self.window_requests)),
                "X-RateLimit-Reset": str(reset),
            }
        )
        return reply

    def by_key(self) -> dict[str, list[Accepted]]:
        with self.lock:
            grouped: dict[str, list[Accepted]] = {}
            for message in self.messages:
                grouped.setdefault(message.idempotency_key or "", []).append(message)
            return grouped


# The messages of SendGrid's Errors page, by what they are about.
MESSAGES = {
    "no_personalization": "You must have at least one personalization.",
    "too_many_personalizations": (
        "The personalization block is limited to 1000 personalizations per API request."
    ),
    "to_required": "The to parameter is required for all personalization objects.",
    "bad_address": "Does not contain a valid address.",
    "duplicate_address": (
        "Each unique email address in the personalizations array should only be included "
        "once. You have included {email} more than once."
    ),
    "too_many_recipients": "There is a limit of 1000 total recipients (to + cc + bcc) per request.",
    "from_required": (
        "The from object must be provided for every email send. It is an object that requires "
        "the email parameter, but may also contain a name parameter."
    ),
    "subject_required": (
        "The subject is required. You can get around this requirement if you use a template "
        "with a subject defined or if every personalization has a subject defined."
    ),
    "content_required": (
        "Unless a valid template_id is provided, the content parameter is required. There must "
        "be at least one defined content block."
    ),
    "content_value": "The content value must be a string at least one character in length.",
    "content_once": "If present, text/plain and text/html may only be provided once.",
    "content_order": (
        "If present, text/plain must be first, followed by text/html, followed by any other "
        "content."
    ),
    "headers_type": "Invalid type. Expected: object of strings.",
    "headers_reserved": "The headers parameter contains a reserved header and can't be used.",
    "custom_args_type": "Invalid type. Expected: object of strings.",
    "custom_args_size": "The custom_args must not exceed 10,000 bytes.",
    "categories_count": "You may not have more than 10 categories per request.",
    "categories_length": "A category cannot be more than 255 characters.",
}


def validate(body: dict[str, Any]) -> list[tuple[str | None, str]]:
    """Every problem SendGrid would report, as (field, message)."""
    problems = _recipient_problems(body)
    sender = body.get("from")
    if not isinstance(sender, dict) or not _EMAIL.match(str(sender.get("email", ""))):
        problems.append(("from", MESSAGES["from_required"]))
    personalizations = body.get("personalizations") or []
    subjects = all(isinstance(p, dict) and p.get("subject") for p in personalizations)
    if not body.get("template_id") and not subjects and not _text(body.get("subject")):
        problems.append(("subject", MESSAGES["subject_required"]))
    problems += _content_problems(body)
    headers = body.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        problems.append(("headers", MESSAGES["headers_type"]))
    elif any(name.lower() in RESERVED_HEADERS for name in headers):
        problems.append(("headers", MESSAGES["headers_reserved"]))
    args = body.get("custom_args", {})
    if not isinstance(args, dict) or not all(isinstance(v, str) for v in args.values()):
        problems.append(("custom_args", MESSAGES["custom_args_type"]))
    elif len(json.dumps(args).encode()) > 10_000:
        problems.append(("custom_args", MESSAGES["custom_args_size"]))
    categories = body.get("categories", [])
    if not isinstance(categories, list) or len(categories) > 10:
        problems.append(("categories", MESSAGES["categories_count"]))
    elif any(not isinstance(c, str) or len(c) > 255 for c in categories):
        problems.append(("categories", MESSAGES["categories_length"]))
    return problems


def _recipient_problems(body: dict[str, Any]) -> list[tuple[str | None, str]]:
    personalizations = body.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        return [("personalizations", MESSAGES["no_personalization"])]
    problems: list[tuple[str | None, str]] = []
    if len(personalizations) > 1000:
        problems.append(("personalizations", MESSAGES["too_many_personalizations"]))
    seen: set[str] = set()
    for index, personalization in enumerate(personalizations):
        to = personalization.get("to") if isinstance(personalization, dict) else None
        if not isinstance(to, list) or not to:
            problems.append((f"personalizations.{index}.to", MESSAGES["to_required"]))
            continue
        for position, recipient in enumerate(to):
            email = recipient.get("email") if isinstance(recipient, dict) else None
            where = f"personalizations.{index}.to.{position}.email"
            if not isinstance(email, str) or not _EMAIL.match(email):
                problems.append((where, MESSAGES["bad_address"]))
            elif email.lower() in seen:
                problems.append((where, MESSAGES["duplicate_address"].format(email=email)))
            seen.add(str(email).lower())
    if len(seen) > 1000:
        problems.append(("personalizations", MESSAGES["too_many_recipients"]))
    return problems


def _content_problems(body: dict[str, Any]) -> list[tuple[str | None, str]]:
    content = body.get("content")
    if body.get("template_id") and content is None:
        return []
    if not isinstance(content, list) or not content:
        return [("content", MESSAGES["content_required"])]
    problems: list[tuple[str | None, str]] = []
    types = [part.get("type") if isinstance(part, dict) else None for part in content]
    for index, part in enumerate(content):
        if not isinstance(part, dict) or not _text(part.get("value")):
            problems.append((f"content.{index}.value", MESSAGES["content_value"]))
    if types.count("text/plain") > 1 or types.count("text/html") > 1:
        problems.append(("content", MESSAGES["content_once"]))
    expected = [t for t in ("text/plain", "text/html") if t in types]
    if types[: len(expected)] != expected:
        problems.append(("content", MESSAGES["content_order"]))
    return problems


def _text(value: Any) -> bool:
    return isinstance(value, str) and len(value) >= 1


def _errors(status: int, problems: list[tuple[str | None, str]]) -> Reply:
    errors = [
        {"message": message, "field": field, "help": f"{HELP}#message.{field}" if field else None}
        for field, message in problems
    ]
    return Reply(status, {"errors": errors})
