"""Sends each message over one SMTP session, telling the relay's refusals from lost replies.

A message that cannot be built (or serialised) is refused alone, for good, with the reason: one
bad profile value must not stop the messages behind it.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.utils import parseaddr

from activations.destination import (
    DeliveryError,
    DestinationUnavailable,
    Operation,
    OperationResult,
    SyncContext,
)
from activations.destinations.smtp.capabilities import CAPABILITIES
from activations.destinations.smtp.config import SmtpConfig
from activations.destinations.smtp.mapping import build_message
from activations.secrets import Secrets
from waymark.core import crash


class SmtpClient:
    capabilities = CAPABILITIES

    def __init__(self, config: SmtpConfig, secrets: Secrets) -> None:
        self.config = config
        self.host = secrets.setting(config.host_env)
        default_port = 465 if config.implicit_tls else 587 if config.starttls else 25
        self.port = int(secrets.setting(config.port_env)) if config.port_env else default_port
        self.username = secrets.setting(config.username_env) if config.username_env else None
        self.password = secrets.require(config.password_env) if config.password_env else None
        self.unsubscribe_secret = (
            secrets.require(config.unsubscribe_secret_env)
            if config.unsubscribe_secret_env
            else None
        )
        self.envelope_from = parseaddr(config.from_address)[1]
        self.session: smtplib.SMTP | None = None

    def _session(self) -> smtplib.SMTP:
        if self.session is not None:
            return self.session
        context = ssl.create_default_context(cafile=self.config.ca_file)
        timeout = self.config.timeout_seconds
        try:
            if self.config.implicit_tls:
                session = smtplib.SMTP_SSL(self.host, self.port, timeout=timeout, context=context)
            else:
                session = smtplib.SMTP(self.host, self.port, timeout=timeout)
                if self.config.starttls:
                    session.starttls(context=context)
            session.ehlo_or_helo_if_needed()
            if self.username:
                session.login(self.username, self.password or "")
        except smtplib.SMTPAuthenticationError as error:
            raise DestinationUnavailable(
                f"the relay refused the credentials ({error.smtp_code})"
            ) from error
        except smtplib.SMTPNotSupportedError as error:
            raise DestinationUnavailable(f"the relay does not support it: {error}") from error
        except (OSError, smtplib.SMTPException) as error:
            # Nothing was sent: the message is simply retried.
            raise DeliveryError("connection_failed", str(error), transient=True) from error
        self.session = session
        return session

    def deliver(self, batch: Sequence[Operation]) -> list[OperationResult]:
        return [self._send(op) for op in batch]

    def _send(self, op: Operation) -> OperationResult:
        try:
            message = build_message(op, self.config, self.unsubscribe_secret)
        except Exception as error:  # whatever the cause, it is this message's alone
            return OperationResult.unbuildable(op.op_id, error)
        session = self._session()
        try:
            session.send_message(message, self.envelope_from, [str(op.payload["to"])])
        except (ValueError, UnicodeError, smtplib.SMTPNotSupportedError) as error:
            # Raised while the message is serialised or its addresses checked, before MAIL
            # FROM: nothing was sent, and sending it again would fail the same way.
            return OperationResult.unbuildable(op.op_id, error)
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            return _refused(op, code, reply)
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
            return _refused(op, error.smtp_code, error.smtp_error)
        except (smtplib.SMTPException, OSError) as error:
            # The reply to DATA may be what was lost: the relay may have taken the message.
            self._drop()
            raise DeliveryError(
                "connection_lost", str(error), transient=True, ambiguous=True
            ) from error
        crash.point("smtp.after_data")
        return OperationResult.success(op.op_id)

    def _drop(self) -> None:
        if self.session is not None:
            try:
                self.session.close()
            finally:
                self.session = None

    def finish(self, run_id: str) -> None:
        return None

    def close(self) -> None:
        if self.session is not None:
            try:
                self.session.quit()
            except (smtplib.SMTPException, OSError):
                pass
            finally:
                self.session = None


def _refused(op: Operation, code: int, reply: bytes | str) -> OperationResult:
    """4xx replies are temporary, 5xx permanent (RFC 5321 section 4.2.1)."""
    text = reply.decode("utf-8", errors="replace") if isinstance(reply, bytes) else str(reply)
    return OperationResult(
        op.op_id, False, transient=400 <= code < 500, error_code=str(code), error_message=text
    )


def open_smtp(config: SmtpConfig, secrets: Secrets, context: SyncContext | None) -> SmtpClient:
    if context is not None:
        raise DestinationUnavailable("SMTP destinations take journey sends, not syncs")
    return SmtpClient(config, secrets)
