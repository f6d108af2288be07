"""Normalise, then SHA-256, the customer data that ad platforms match on.

Ad platforms match hashed identifiers against their own hashes, so a value hashed without the
platform's exact normalisation never matches (and the sync still looks successful). Each rule
below cites the vendor's published contract:

- Meta Custom Audiences, "Hashing and Normalizing Data"
  (developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences): email trimmed
  and lower-cased; phone as digits only with the country code and no '+' or leading zeros;
  first/last name lower-cased without punctuation; zip lower-cased without spaces or dashes
  (US: first five digits); country as a lower-case ISO 3166-1 alpha-2 code.
- Google Customer Match, "Format user data"
  (https://developers.google.com/data-manager/api/devguides/concepts/formatting) and the
  Customer Match guides of the Google Ads and Display & Video 360 APIs: whitespace removed and
  lower-cased for email and names; for gmail.com and googlemail.com addresses every '.' before
  the '@' and any '+tag' removed; phone in E.164 with '+'; zip and country are sent unhashed.
- Country names a customer record may carry instead of a code ("United States", Meta's own
  example, or "UK") become the ISO 3166-1 alpha-2 code for the countries Waymark's sources cover
  (`waymark.core.identifiers.CALLING_CODES`); any other name is not guessed.

Email and phone reuse `waymark.core.identifiers`, the same rules identity resolution uses, so the
hash of a customer's identifier is exactly the hash of the value in `customer_identifiers`
(except Google's gmail rewriting, which identity resolution deliberately does not do).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Literal

from waymark.core.identifiers import normalize_email, normalize_phone_e164

Platform = Literal["meta", "google"]

_PUNCTUATION = re.compile(r"[^\w]", flags=re.UNICODE)
_ZIP_SEPARATORS = re.compile(r"[\s-]")
_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
_COUNTRY_NAMES = {
    "united states": "us",
    "united states of america": "us",
    "usa": "us",
    "u s a": "us",
    "canada": "ca",
    "united kingdom": "gb",
    "great britain": "gb",
    "uk": "gb",  # not an ISO code: the UK's is GB
    "germany": "de",
    "deutschland": "de",
    "france": "fr",
    "australia": "au",
    "netherlands": "nl",
    "the netherlands": "nl",
    "spain": "es",
    "españa": "es",
    "ireland": "ie",
}
"""Country names seen in customer records -> ISO code, for the countries of
`waymark.core.identifiers.CALLING_CODES` (a guessed code matches nobody, so others stay unknown)."""


def sha256_hex(value: str) -> str:
    """Lower-case hex SHA-256 of the UTF-8 bytes, as both platforms expect."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def normalize_email_for(platform: Platform, raw: str | None) -> str | None:
    """Trimmed and lower-cased; for Google also without inner whitespace, and gmail addresses
    without the dots and '+tag' of their local part (the same mailbox to Google)."""
    if raw is not None and platform == "google":
        raw = "".join(raw.split())
    email = normalize_email(raw)
    if email is None or platform != "google":
        return email
    local, _, domain = email.rpartition("@")
    if domain in _GMAIL_DOMAINS:
        local = local.split("+", 1)[0].replace(".", "")
        return f"{local}@{domain}" if local else None
    return email


def normalize_phone_for(
    platform: Platform, raw: str | None, country: str | None = None
) -> str | None:
    """E.164 for Google; the same digits without '+' for Meta."""
    e164 = normalize_phone_e164(raw, country)
    if e164 is None:
        return None
    return e164 if platform == "google" else e164.lstrip("+")


def normalize_name_for(platform: Platform, raw: str | None) -> str | None:
    """Lower-cased, NFC; Meta also drops punctuation and spaces, Google only whitespace."""
    if raw is None:
        return None
    text = unicodedata.normalize("NFC", raw).strip().lower()
    text = (
        _PUNCTUATION.sub("", text).replace("_", "") if platform == "meta" else "".join(text.split())
    )
    return text or None


def normalize_zip_for(platform: Platform, raw: str | None, country: str | None) -> str | None:
    """Lower-cased without spaces or dashes; US codes keep their first five digits."""
    if raw is None:
        return None
    text = _ZIP_SEPARATORS.sub("", raw.strip().lower())
    if (country or "").upper() == "US":
        text = text[:5]
    return text or None


def normalize_country_for(platform: Platform, raw: str | None) -> str | None:
    """ISO 3166-1 alpha-2: lower-case for Meta, upper-case for Google."""
    text = " ".join((raw or "").replace(".", " ").split()).lower()
    code = _COUNTRY_NAMES.get(text, text)
    if len(code) != 2 or not code.isalpha() or not code.isascii():
        return None
    return code if platform == "meta" else code.upper()


def hashed(value: str | None) -> str | None:
    """SHA-256 of a normalised value; None stays None (never hash an empty string)."""
    return sha256_hex(value) if value else None
