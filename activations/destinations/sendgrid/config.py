"""Typed settings of a SendGrid destination."""

from __future__ import annotations

from email.utils import parseaddr
from typing import Annotated

from pydantic import AfterValidator, Field, PositiveFloat, field_validator

from activations.connectors import ConnectorConfig, HeaderValue, NoSyncSettings
from waymark.core.destinations import EnvVarName


def _address(value: str) -> str:
    if "@" not in parseaddr(value)[1]:
        raise ValueError(f"'{value}' is not an email address (`Name <address>` or `address`)")
    return value


Address = Annotated[HeaderValue, AfterValidator(_address)]


class SendgridConfig(ConnectorConfig):
    api_key_env: EnvVarName
    """Variable holding an API key with the `mail.send` scope."""
    base_url: str = "https://api.sendgrid.com"
    """`https://api.eu.sendgrid.com` for EU regional subusers; a stand-in in tests and demos."""
    from_address: Address
    """`Name <address>` of a verified Sender Identity."""
    reply_to: Address | None = None
    list_unsubscribe_url: HeaderValue | None = None
    """One-click unsubscribe URL for marketing messages; `{customer_id}`, `{purpose}` and
    `{token}` are filled in (token: HMAC of customer and purpose with `unsubscribe_secret_env`,
    the same token as the SMTP destination's, so one endpoint serves both)."""
    list_unsubscribe_mailto: HeaderValue | None = None
    unsubscribe_secret_env: EnvVarName | None = None
    asm_group_id: int | None = Field(None, ge=1)
    """SendGrid unsubscribe group for marketing messages (its own preference page)."""
    categories: list[Annotated[str, Field(min_length=1, max_length=255)]] = Field([], max_length=9)
    """Categories on every message; the template name is added as one more (at most 10)."""
    timeout_seconds: PositiveFloat = 30.0

    @field_validator("list_unsubscribe_url")
    @classmethod
    def _unsubscribe_url(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                value.format(customer_id="", purpose="", token="")
            except (KeyError, IndexError, ValueError) as error:
                message = (
                    f"only {{customer_id}}, {{purpose}} and {{token}} may be filled in ({error})"
                )
                raise ValueError(message) from None
        return value


SendgridSyncSettings = NoSyncSettings
