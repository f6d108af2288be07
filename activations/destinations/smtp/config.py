"""Typed settings of an SMTP destination."""

from __future__ import annotations

from pydantic import PositiveFloat

from activations.connectors import ConnectorConfig, HeaderValue, NoSyncSettings
from waymark.core.destinations import EnvVarName


class SmtpConfig(ConnectorConfig):
    host_env: EnvVarName
    """Variable holding the relay's host name."""
    port_env: EnvVarName | None = None
    """Variable holding the port; default 587 with STARTTLS, 465 with implicit TLS, else 25."""
    username_env: EnvVarName | None = None
    password_env: EnvVarName | None = None
    starttls: bool = True
    implicit_tls: bool = False
    """TLS from the first byte (port 465) instead of STARTTLS."""
    ca_file: str | None = None
    """PEM file of extra certificate authorities to trust (a private relay)."""
    timeout_seconds: PositiveFloat = 30.0
    from_address: HeaderValue
    """`Name <address>` the messages come from; its domain also names Message-IDs."""
    reply_to: HeaderValue | None = None
    list_unsubscribe_url: HeaderValue | None = None
    """One-click unsubscribe URL for marketing messages; `{customer_id}`, `{purpose}` and
    `{token}` are filled in (token: HMAC of customer and purpose with `unsubscribe_secret_env`)."""
    list_unsubscribe_mailto: HeaderValue | None = None
    unsubscribe_secret_env: EnvVarName | None = None


SmtpSyncSettings = NoSyncSettings
