"""Normalisation of customer identifiers, shared by the data generator, the tests and (mirrored
one-to-one in SQL) the dbt staging models.

Identity resolution only works when every source spells an identifier the same way, so each rule
here is deliberately small enough to be written identically in DuckDB SQL:

- whitespace means the four characters in ``WHITESPACE`` (SQL: ``trim(x, ' \\t\\r\\n')``);
- emails are trimmed and lower-cased, then validated with one regular expression;
- phones become E.164 from a handful of prefix rules and a country table;
- ids (anonymous ids, user ids, CRM contact ids) are trimmed only: they are case-sensitive;
- junk values (placeholders typed into forms, SDK bugs) are matched against the blocklist seed
  ``dbt_project/seeds/identifier_blocklist.csv``, which SQL joins and Python reads.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from waymark.core.home import DBT_PROJECT_DIR

WHITESPACE = " \t\r\n"

EMAIL_PATTERN = r"^[a-z0-9._%+'-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$"
_EMAIL_RE = re.compile(EMAIL_PATTERN)

# Country calling codes for the countries Waymark's demo shop sells to. Unknown countries give no
# phone at all rather than a wrong one.
CALLING_CODES: dict[str, str] = {
    "US": "1",
    "CA": "1",
    "GB": "44",
    "DE": "49",
    "FR": "33",
    "AU": "61",
    "NL": "31",
    "ES": "34",
    "IE": "353",
}

# Countries whose national format starts with a trunk prefix '0' that E.164 drops.
TRUNK_ZERO_COUNTRIES: frozenset[str] = frozenset({"GB", "DE", "FR", "AU", "NL", "ES", "IE"})

E164_PATTERN = r"^\+[1-9][0-9]{7,14}$"
_E164_RE = re.compile(E164_PATTERN)
_NON_DIGITS_RE = re.compile(r"[^0-9]")

BLOCKLIST_PATH = DBT_PROJECT_DIR / "seeds" / "identifier_blocklist.csv"

IDENTIFIER_TYPES: tuple[str, ...] = ("anonymous_id", "user_id", "email", "phone", "crm_contact_id")


def normalize_email(raw: str | None) -> str | None:
    """Return the canonical form of an email address, or None when it is not a usable address.

    Canonical means trimmed and lower-cased; usable means it matches ``EMAIL_PATTERN``. No
    provider-specific rewriting (dots or plus tags in Gmail): those are different mailboxes as
    far as the sources can tell, and SQL must be able to mirror this exactly.
    """
    if raw is None:
        return None
    value = raw.strip(WHITESPACE).lower()
    return value if _EMAIL_RE.match(value) else None


def normalize_phone_e164(
    raw: str | None, country: str | None, default_country: str = "US"
) -> str | None:
    """Return a phone number in E.164 (``+`` and 8-15 digits, first digit not 0), or None.

    Rules, applied to the trimmed text:
    1. starts with ``+``: keep ``+`` and the digits;
    2. starts with ``00`` (international dialling prefix): ``+`` and the digits after ``00``;
    3. otherwise national: the digits, minus one leading trunk ``0`` in ``TRUNK_ZERO_COUNTRIES``,
       after the calling code of ``country`` (or ``default_country`` when country is empty). For
       NANP (code 1), 11 national digits starting with ``1`` already carry the code.
    Sources without a country column therefore only link national numbers of the default country.
    """
    if raw is None:
        return None
    text = raw.strip(WHITESPACE)
    digits = _NON_DIGITS_RE.sub("", text)
    if text.startswith("+"):
        candidate = "+" + digits
    elif text.startswith("00"):
        candidate = "+" + digits[2:]
    else:
        code_country = (country or "").strip(WHITESPACE).upper() or default_country.upper()
        code = CALLING_CODES.get(code_country)
        if code is None:
            return None
        if code_country in TRUNK_ZERO_COUNTRIES and digits.startswith("0"):
            digits = digits[1:]
        if code == "1" and len(digits) == 11 and digits.startswith("1"):
            candidate = "+" + digits
        else:
            candidate = "+" + code + digits
    return candidate if _E164_RE.match(candidate) else None


def normalize_identifier(raw: str | None) -> str | None:
    """Return an opaque id (anonymous id, user id, CRM contact id) trimmed, or None when empty.

    Ids are case-sensitive in the systems that mint them, so nothing else is changed.
    """
    if raw is None:
        return None
    value = raw.strip(WHITESPACE)
    return value or None


def normalize(identifier_type: str, raw: str | None, country: str | None = None) -> str | None:
    """Normalise any identifier by type; ``country`` only matters for national phone numbers."""
    if identifier_type == "email":
        return normalize_email(raw)
    if identifier_type == "phone":
        return normalize_phone_e164(raw, country)
    return normalize_identifier(raw)


@dataclass(frozen=True)
class BlocklistRule:
    """One row of the identifier blocklist seed: a value that identifies nobody."""

    identifier_type: str
    match_type: str
    pattern: str
    reason: str

    def matches(self, identifier_type: str, value: str) -> bool:
        """True when the rule applies to this type and the normalised value."""
        if self.identifier_type not in ("*", identifier_type):
            return False
        if self.match_type == "exact":
            return value == self.pattern
        return _compiled(self.pattern).search(value) is not None


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


@lru_cache(maxsize=4)
def load_blocklist(path: Path = BLOCKLIST_PATH) -> tuple[BlocklistRule, ...]:
    """Read the blocklist seed (columns identifier_type, match_type, pattern, reason)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return tuple(
            BlocklistRule(
                identifier_type=row["identifier_type"],
                match_type=row["match_type"],
                pattern=row["pattern"],
                reason=row["reason"],
            )
            for row in csv.DictReader(handle)
        )


@lru_cache(maxsize=16)
def _rules_for(identifier_type: str) -> tuple[frozenset[str], tuple[re.Pattern[str], ...]]:
    """The blocklist rules that apply to one identifier type: exact values and regexes."""
    rules = [r for r in load_blocklist() if r.identifier_type in ("*", identifier_type)]
    exact = frozenset(r.pattern for r in rules if r.match_type == "exact")
    regexes = tuple(_compiled(r.pattern) for r in rules if r.match_type != "exact")
    return exact, regexes


def is_junk(identifier_type: str, value: str | None) -> bool:
    """True when a normalised identifier is a placeholder shared by unrelated people.

    Such values (``test@test.com``, ``+10000000000``, ``unknown``) must never join two profiles.
    Empty values are junk too. Regex rules use search semantics, like DuckDB's
    ``regexp_matches``, and are written in the subset that Python ``re`` and RE2 share.
    """
    if value is None or not value.strip(WHITESPACE):
        return True
    exact, regexes = _rules_for(identifier_type)
    return value in exact or any(regex.search(value) for regex in regexes)
