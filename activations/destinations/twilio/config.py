"""Typed settings of a Twilio SMS destination."""

from __future__ import annotations

from pydantic import PositiveFloat, field_validator, model_validator

from activations.connectors import ConnectorConfig, NoSyncSettings
from waymark.core.destinations import EnvVarName


class TwilioConfig(ConnectorConfig):
    account_sid_env: EnvVarName
    """Variable holding the Account SID (`AC...`): the Basic auth user and part of the path."""
    auth_token_env: EnvVarName
    """Variable holding the account's auth token (or an API key secret with its SID as user)."""
    from_number_env: EnvVarName | None = None
    """Variable holding the sender: a Twilio number in E.164, a short code or a sender id."""
    messaging_service_sid_env: EnvVarName | None = None
    """Variable holding a Messaging Service SID (`MG...`); Twilio picks the sender from its pool."""
    base_url: str = "https://api.twilio.com"
    status_callback_url: str | None = None
    """Where Twilio posts delivery status; `{idempotency_key}` is filled in, so each status
    callback names the journey send it belongs to."""
    timeout_seconds: PositiveFloat = 15.0

    @model_validator(mode="after")
    def _sender(self) -> TwilioConfig:
        if not self.from_number_env and not self.messaging_service_sid_env:
            raise ValueError("set from_number_env or messaging_service_sid_env")
        return self

    @field_validator("status_callback_url")
    @classmethod
    def _callback(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                value.format(idempotency_key="")
            except (KeyError, IndexError, ValueError) as error:
                raise ValueError(f"only {{idempotency_key}} may be filled in ({error})") from None
        return value


TwilioSyncSettings = NoSyncSettings
