"""Identifier normalisation vectors and the blocklist's portability between Python and DuckDB.

Staging SQL mirrors ``waymark.core.identifiers`` rule for rule; these vectors are the shared
contract, and the regex test proves every blocklist pattern means the same in Python ``re`` and
RE2.
"""

from __future__ import annotations

import csv
import re

import duckdb
import pytest

from waymark.core.identifiers import (
    BLOCKLIST_PATH,
    is_junk,
    load_blocklist,
    normalize,
    normalize_email,
    normalize_identifier,
    normalize_phone_e164,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" Jane.Doe@Gmail.com ", "jane.doe@gmail.com"),
        ("JANE.DOE@GMAIL.COM", "jane.doe@gmail.com"),
        ("\tjane.doe@gmail.com\r\n", "jane.doe@gmail.com"),
        ("o'brien+shop@mail.example.ie", "o'brien+shop@mail.example.ie"),
        ("a_b-c%d@sub-domain.co.uk", "a_b-c%d@sub-domain.co.uk"),
        ("jane.doe@", None),
        ("jane.doe@gmail", None),
        ("jane doe@gmail.com", None),
        ("jane.doe@@gmail.com", None),
        ("jane.doe@gmail.c", None),
        ("jane.doe@gmail.com.", None),
        ("N/A", None),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_normalize_email(raw: str | None, expected: str | None) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("(415) 555-0123", "US", "+14155550123"),
        ("415.555.0123", None, "+14155550123"),
        ("4155550123", "", "+14155550123"),
        ("1-415-555-0123", "US", "+14155550123"),
        ("14155550123", None, "+14155550123"),
        ("+1 415 555 0123", "GB", "+14155550123"),
        ("001 415 555 0123", None, "+14155550123"),
        ("(604) 555-0199", "CA", "+16045550199"),
        ("07700 900123", "GB", "+447700900123"),
        ("07700 900123", "gb", "+447700900123"),
        ("+44 7700 900123", None, "+447700900123"),
        ("0044 7700 900123", None, "+447700900123"),
        ("0151 23456789", "DE", "+4915123456789"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("0412 345 678", "AU", "+61412345678"),
        ("06-12345678", "NL", "+31612345678"),
        ("612 34 56 78", "ES", "+34612345678"),
        ("083 123 4567", "IE", "+353831234567"),
        ("0000000000", "US", None),  # '00' reads as an international prefix: too short
        ("+1 000 000 0000", None, "+10000000000"),  # valid shape, blocklisted below
        ("07700 900123", None, "+107700900123"),  # national GB read as US: blocklisted below
        ("07700 900123", "JP", None),
        ("12345", "US", None),
        ("+0 123 4567 890", None, None),
        ("+1 234 567 8901 2345 678", None, None),
        ("anonymous", None, None),
        ("", "US", None),
        (None, "US", None),
    ],
)
def test_normalize_phone(raw: str | None, country: str | None, expected: str | None) -> None:
    assert normalize_phone_e164(raw, country) == expected


def test_normalize_phone_default_country() -> None:
    assert normalize_phone_e164("07700 900123", None, default_country="GB") == "+447700900123"


def test_normalize_identifier_trims_only() -> None:
    assert normalize_identifier("  u_ABC123 ") == "u_ABC123"
    assert normalize_identifier(" ") is None
    assert normalize("crm_contact_id", "003AbC") == "003AbC"
    assert normalize("phone", "07700 900123", "GB") == "+447700900123"


JUNK = [
    ("email", "test@test.com"),
    ("email", "test@example.com"),
    ("email", "noemail@noemail.com"),
    ("email", "noemail@gmail.com"),
    ("email", "none@none.com"),
    ("email", "na@na.com"),
    ("email", "unknown@unknown.com"),
    ("email", "jane@example.com"),
    ("email", "testing123@gmail.com"),
    ("email", "fake.person@yahoo.com"),
    ("email", "asdfgh@gmail.com"),
    ("phone", "+10000000000"),
    ("phone", "+11111111111"),
    ("phone", "+99999999"),
    ("phone", "+447777777777"),
    ("phone", "+44000000000"),
    ("phone", "+11234567890"),
    ("phone", "+15555555555"),
    ("phone", "+15551234567"),
    ("phone", "+107700900123"),
    ("anonymous_id", "unknown"),
    ("anonymous_id", "00000000-0000-0000-0000-000000000000"),
    ("anonymous_id", "null"),
    ("user_id", "undefined"),
    ("user_id", "NULL"),
    ("user_id", "none"),
    ("user_id", "0"),
    ("user_id", ""),
]
REAL = [
    ("email", "jane.doe@gmail.com"),
    ("email", "attest@gmail.com"),
    ("email", "nadia@na.com.au"),
    ("email", "the.smiths12@outlook.com"),
    ("phone", "+14155550123"),
    ("phone", "+447700900123"),
    ("phone", "+4915123456789"),
    ("phone", "+353831234567"),
    ("anonymous_id", "3f1c9d2e-8a4b-4c7d-9e2f-1a2b3c4d5e6f"),
    ("user_id", "u_0a1b2c3d4e"),
    ("user_id", "u_null"),
    ("crm_contact_id", "003Ab12Cd34Ef56"),
]


@pytest.mark.parametrize(("identifier_type", "value"), JUNK)
def test_junk_values_are_blocked(identifier_type: str, value: str) -> None:
    assert is_junk(identifier_type, value)


@pytest.mark.parametrize(("identifier_type", "value"), REAL)
def test_real_values_pass(identifier_type: str, value: str) -> None:
    assert not is_junk(identifier_type, value)


def test_blocklist_seed_shape() -> None:
    with BLOCKLIST_PATH.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["identifier_type", "match_type", "pattern", "reason"]
    types = {"*", "anonymous_id", "user_id", "email", "phone", "crm_contact_id"}
    assert all(r["identifier_type"] in types for r in rows)
    assert all(r["match_type"] in ("exact", "regex") for r in rows)
    assert all(r["pattern"] and r["reason"] for r in rows)
    loaded = duckdb.sql(f"select count(*) from read_csv('{BLOCKLIST_PATH}', header=true)")
    assert loaded.fetchall() == [(len(rows),)]


def test_blocklist_regexes_agree_in_python_and_duckdb() -> None:
    """Every regex gives the same answer in Python ``re.search`` and DuckDB (RE2)."""
    patterns = [r.pattern for r in load_blocklist() if r.match_type == "regex"]
    values = [v for _, v in JUNK + REAL if v] + ["+1 415", "TEST", "Unknown", "n/a", "-"]
    pairs = [(value, pattern) for pattern in patterns for value in values]
    rows = duckdb.execute(
        "select v, p, regexp_matches(v, p) from "
        "(select unnest(?::varchar[]) as v, unnest(?::varchar[]) as p)",
        [[v for v, _ in pairs], [p for _, p in pairs]],
    ).fetchall()
    sql_says = {(v, p): matched for v, p, matched in rows}
    assert len(sql_says) == len(pairs)
    for value, pattern in pairs:
        assert (re.search(pattern, value) is not None) == sql_says[(value, pattern)], (
            value,
            pattern,
        )
