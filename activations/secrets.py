"""Secrets come only from environment variables named in configuration, and never leave.

Every text that may reach a log, the warehouse or the terminal passes `Secrets.redact`, which
replaces each secret value read so far. Destination errors go through it too: a server may echo
a token back in an error body.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

REDACTED = "[redacted]"


class MissingSecretError(RuntimeError):
    """A named environment variable is not set; the message names the variable, never a value."""


class Secrets:
    """Reads named environment variables and remembers their values for redaction."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ
        self._values: set[str] = set()

    def require(self, name: str) -> str:
        value = self._environ.get(name)
        if not value:
            raise MissingSecretError(f"environment variable {name} is not set")
        self._remember(value)
        return value

    def optional(self, name: str | None) -> str | None:
        if name is None:
            return None
        value = self._environ.get(name) or None
        if value:
            self._remember(value)
        return value

    def setting(self, name: str) -> str:
        """A required variable that is configuration, not a secret (a host, a port)."""
        value = self._environ.get(name)
        if not value:
            raise MissingSecretError(f"environment variable {name} is not set")
        return value

    def remember(self, value: str | None) -> None:
        """A secret obtained while running (an OAuth access token, a Basic-auth string):
        redacted from now on."""
        if value:
            self._remember(value)

    def _remember(self, value: str) -> None:
        # Very short values (a port number) would redact unrelated text and protect nothing.
        if len(value) >= 4:
            self._values.add(value)

    def redact(self, text: str | None) -> str | None:
        if text is None:
            return None
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, REDACTED)
        return text
