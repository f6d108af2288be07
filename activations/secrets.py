"""Secrets come only from environment variables named in configuration, and never leave.

Every text that may reach a log, the warehouse or the terminal passes `Secrets.redact`, which
replaces each secret value read so far. Destination errors go through it too, because a server
may echo a token back in an error body, whole or cut:
- a secret that is a URL (a webhook with a token in it) is redacted whole and part by part: its
  userinfo, its query string and every query value, its path and every path segment that looks
  like a token, raw and percent-decoded. A receiver echoes its path or a query value far more
  often than the URL it was called by;
- every secret is redacted percent-encoded too: credentials travel in form bodies and query
  strings, and a server that echoes its request echoes them encoded;
- any run of `MIN_PREFIX` or more characters that begins a secret is redacted wherever it
  appears: a vendor that cuts its own echo leaves such a prefix in the middle of a text;
- a text is cut to a length only after redaction (`redact(text, limit)`), never before, and a
  cut that leaves the first characters of a secret at its end removes them too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit

REDACTED = "[redacted]"
MIN_SECRET = 4
"""Shorter values (a port number) would redact unrelated text and protect nothing."""
MIN_PREFIX = 8
"""A run of this many characters that begins a secret is redacted anywhere in a text."""
MESSAGE_LIMIT = 500
"""Characters of a destination's error message kept in the warehouse logs (after redaction)."""


class MissingSecretError(RuntimeError):
    """A named environment variable is not set; the message names the variable, never a value."""


class Secrets:
    """Reads named environment variables and remembers their values for redaction."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ
        self._values: set[str] = set()
        """Replaced wherever they appear."""
        self._tokens: set[str] = set()
        """Values whose prefixes are secret too (not whole URLs: `https://host/` is not)."""

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
        parts = url_parts(value)
        if parts is None:
            self._add(value, token=True)
            return
        self._add(value, token=False)
        for part in parts:
            self._add(part, token=True)

    def _add(self, value: str, *, token: bool) -> None:
        if len(value) < MIN_SECRET:
            return
        forms = {value, quote(value, safe=""), quote_plus(value, safe="")}
        self._values.update(forms)
        if token:
            self._tokens.update(forms)

    def redact(self, text: str | None, limit: int | None = None) -> str | None:
        """`text` with every secret, and every long enough prefix of one, replaced; then cut to
        `limit` characters (plus a whole marker) when it is longer."""
        if text is None:
            return None
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, REDACTED)
        for token in sorted(self._tokens, key=len, reverse=True):
            if len(token) > MIN_PREFIX:
                text = _redact_prefixes(text, token)
        if limit is not None and len(text) > limit:
            text = self._cut(text, limit)
        return text

    def _cut(self, text: str, limit: int) -> str:
        marker = text.rfind(REDACTED, max(0, limit - len(REDACTED)), limit + len(REDACTED))
        if marker != -1 and marker < limit < marker + len(REDACTED):
            return text[: marker + len(REDACTED)]  # a marker cut in two would read oddly
        kept = text[:limit]
        # The cut may fall inside a secret: what is left of it is a prefix at the very end.
        longest = 0
        for token in self._tokens:
            for length in range(min(len(token) - 1, len(kept)), MIN_SECRET - 1, -1):
                if length > longest and kept.endswith(token[:length]):
                    longest = length
                    break
        return kept[: len(kept) - longest] + REDACTED if longest else kept


def _redact_prefixes(text: str, token: str) -> str:
    """Every run of `MIN_PREFIX`+ characters that begins `token` (the whole token is gone)."""
    needle = token[:MIN_PREFIX]
    start = text.find(needle)
    while start != -1:
        end = start + MIN_PREFIX
        while end < len(text) and end - start < len(token) and text[end] == token[end - start]:
            end += 1
        text = text[:start] + REDACTED + text[end:]
        start = text.find(needle, start + len(REDACTED))
    return text


def url_parts(value: str) -> list[str] | None:
    """The parts of a URL that carry credentials, raw and percent-decoded; None when `value`
    is not a URL with a host."""
    if "://" not in value:
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    found: list[str] = []
    userinfo, at, _ = parts.netloc.rpartition("@")
    if at:
        user, _, password = userinfo.partition(":")
        found += [userinfo, user, password]
    if parts.query:
        found.append(parts.query)
        found += [value for _, value in parse_qsl(parts.query, keep_blank_values=True)]
        found += [pair.partition("=")[2] for pair in parts.query.split("&")]
    tokens = [segment for segment in parts.path.split("/") if _token_like(unquote(segment))]
    if tokens or parts.query:
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    found += tokens
    if parts.fragment:
        found.append(parts.fragment)
    return sorted({text for text in _with_decoded(found) if text})


def _with_decoded(texts: list[str]) -> Iterator[str]:
    for text in texts:
        yield text
        yield unquote(text)


def _token_like(segment: str) -> bool:
    """A path segment that may be a credential (`T0001/B0002/XXXXXXXXXXXXXXXXXXXXXXXX`), not
    a word of the route (`hooks`, `services`, `events`)."""
    return len(segment) >= MIN_PREFIX and (any(c.isdigit() for c in segment) or len(segment) >= 16)
