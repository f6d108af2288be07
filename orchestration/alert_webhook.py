"""Where alerts go: the log, and a JSON POST to a webhook of the user's choice.

The webhook is configured by the names of environment variables, never their values:
`url_env` (default `WAYMARK_ALERT_WEBHOOK_URL`) holds the URL; `signing_secret_env`
(`WAYMARK_ALERT_WEBHOOK_SECRET`) the secret that signs each body the Standard Webhooks way, the
same as the webhook destination (`webhook-id`, `webhook-timestamp`, `webhook-signature:
v1,<base64 HMAC-SHA256 of "id.timestamp.body">`); `bearer_token_env`, when set, a token sent as
`Authorization: Bearer`. Without a URL alerts are only logged. The URL (which often embeds a
token), the secret and the token are redacted from every log line and error.

An alert's id is derived from what it reports (a run id, a schedule and its missed tick), so a
receiver can drop a repeat of an alert it already has.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from activations.destinations.webhook.mapping import signature
from activations.secrets import Secrets

ATTEMPTS = 3


@dataclass(frozen=True)
class Alert:
    kind: str
    """`run_failure` or `missed_schedule`."""
    subject: str
    """What the alert is about, unique per occurrence (a run id; schedule@scheduled time)."""
    summary: str
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def alert_id(self) -> str:
        digest = hashlib.sha256(f"{self.kind}\n{self.subject}".encode()).hexdigest()
        return f"alert_{digest[:24]}"

    def body(self, sent_at: float) -> bytes:
        document = {
            "id": self.alert_id,
            "type": self.kind,
            "source": "waymark",
            "summary": self.summary,
            "details": dict(self.details),
            "sent_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(sent_at)),
        }
        return json.dumps(document, sort_keys=True, separators=(",", ":"), default=str).encode()


class AlertDeliveryError(RuntimeError):
    """The webhook did not accept the alert; the message holds no secret."""


class AlertWebhook(dg.ConfigurableResource):
    """A webhook alerts are POSTed to, named by environment variables."""

    url_env: str = "WAYMARK_ALERT_WEBHOOK_URL"
    signing_secret_env: str = "WAYMARK_ALERT_WEBHOOK_SECRET"
    bearer_token_env: str | None = None
    timeout_seconds: float = 10.0
    missed_schedule_grace_seconds: int = 600
    """How late a schedule's tick may be before it counts as missed (the daemon ticks every
    ~30 s; a busy or restarting daemon takes longer)."""

    def deliver(
        self,
        alert: Alert,
        log: Any,
        environ: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> bool:
        """Log the alert and POST it; True when a webhook accepted it, False when none is set.

        Raises AlertDeliveryError after `ATTEMPTS` refused or failed requests.
        """
        secrets = Secrets(environ)
        url = secrets.optional(self.url_env)
        secret = secrets.optional(self.signing_secret_env)
        token = secrets.optional(self.bearer_token_env)
        log.error(secrets.redact(f"[waymark alert] {alert.summary}"))
        if not url:
            log.info(f"No alert webhook: {self.url_env} is not set; the alert is only logged.")
            return False
        problem = ""
        for attempt in range(ATTEMPTS):
            if attempt:
                sleep(2.0**attempt)
            problem = post_alert(alert, url, secret, token, self.timeout_seconds)
            if not problem:
                log.info(f"Alert {alert.alert_id} delivered to the webhook in {self.url_env}.")
                return True
            log.warning(secrets.redact(f"Alert webhook attempt {attempt + 1}: {problem}"))
        raise AlertDeliveryError(
            secrets.redact(
                f"the alert webhook ({self.url_env}) did not accept the alert: {problem}"
            )
        )


def post_alert(
    alert: Alert, url: str, secret: str | None, token: str | None, timeout: float
) -> str:
    """One signed POST; returns "" when the webhook answered 2xx, else what went wrong."""
    now = time.time()
    body = alert.body(now)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "waymark-alerts",
        "webhook-id": alert.alert_id,
        "webhook-timestamp": str(int(now)),
    }
    if secret:
        headers["webhook-signature"] = signature(secret, alert.alert_id, int(now), body)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return ""
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code} {error.reason}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return f"{type(error).__name__}: {reason}"
