"""Identifiers shaped the way a destination's capabilities demand before they leave.

A destination that declares `hashing` (ad platforms) matches on hashed identifiers only: each
identifier field is normalised by that platform's rules and SHA-256 hashed (`activations.pii`);
a value that does not normalise (an invalid email) is sent as null rather than hashed raw.
Google takes zip and country in clear; Meta hashes them too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from activations.destination import Capabilities
from activations.pii import (
    Platform,
    hashed,
    normalize_country_for,
    normalize_email_for,
    normalize_name_for,
    normalize_phone_for,
    normalize_zip_for,
)

_NORMALISERS: dict[str, Callable[[Platform, Any, str | None], str | None]] = {
    "email": lambda platform, value, country: normalize_email_for(platform, value),
    "phone": normalize_phone_for,
    "first_name": lambda platform, value, country: normalize_name_for(platform, value),
    "last_name": lambda platform, value, country: normalize_name_for(platform, value),
    "zip": normalize_zip_for,
    "country": lambda platform, value, country: normalize_country_for(platform, value),
}
_CLEAR_FOR_GOOGLE = frozenset({"zip", "country"})


def shaped_fields(fields: Mapping[str, Any], capabilities: Capabilities) -> dict[str, Any]:
    platform = capabilities.hashing
    if platform is None:
        return dict(fields)
    country = fields.get("country")
    shaped: dict[str, Any] = {}
    for name, value in fields.items():
        normalise = _NORMALISERS.get(name)
        if normalise is None or value is None:
            shaped[name] = value
            continue
        normalised = normalise(platform, str(value), country)
        shaped[name] = normalised if sent_in_clear(name, capabilities) else hashed(normalised)
    return shaped


def sent_in_clear(name: str, capabilities: Capabilities) -> bool:
    """Whether the field leaves as a readable value rather than a hash."""
    platform = capabilities.hashing
    return (
        platform is None
        or name not in _NORMALISERS
        or (platform == "google" and name in _CLEAR_FOR_GOOGLE)
    )
