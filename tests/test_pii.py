"""PII normalisation before hashing follows each ad platform's published rules."""

from __future__ import annotations

import hashlib

import pytest

from activations.pii import (
    hashed,
    normalize_country_for,
    normalize_email_for,
    normalize_name_for,
    normalize_phone_for,
    normalize_zip_for,
    sha256_hex,
)


def test_sha256_is_lowercase_hex_of_utf8() -> None:
    # The X Ads API's published example: sha256("adsapi").
    assert sha256_hex("adsapi") == (
        "49e0be2aeccfb51a8dee4c945c8a70a9ac500cf6f5cb08112575f74db9b1470d"
    )
    assert sha256_hex("zoé") == hashlib.sha256("zoé".encode()).hexdigest()


@pytest.mark.parametrize("platform", ["meta", "google"])
def test_email_is_trimmed_and_lowercased_before_hashing(platform: str) -> None:
    assert normalize_email_for(platform, "  Jane.Doe@Example.ORG ") == "jane.doe@example.org"
    assert hashed(normalize_email_for(platform, " JANE.DOE@example.org")) == sha256_hex(
        "jane.doe@example.org"
    )
    assert normalize_email_for(platform, "not-an-email") is None


@pytest.mark.parametrize(
    ("raw", "country", "meta", "google"),
    [
        ("(657) 777-0000", "US", "16577770000", "+16577770000"),  # TikTok/Meta doc example
        ("+44 20 7183 8750", None, "442071838750", "+442071838750"),
        ("020 7183 8750", "GB", "442071838750", "+442071838750"),
        ("0044 20 7183 8750", "DE", "442071838750", "+442071838750"),
    ],
)
def test_phone_forms(raw: str, country: str | None, meta: str, google: str) -> None:
    assert normalize_phone_for("meta", raw, country) == meta
    assert normalize_phone_for("google", raw, country) == google


def test_names_zip_and_country() -> None:
    assert normalize_name_for("meta", " Mary-Ann O'Neil ") == "maryannoneil"
    assert normalize_name_for("google", " Mary Ann ") == "maryann"
    assert normalize_name_for("meta", "Zoé") == "zoé"
    assert normalize_zip_for("meta", "94105-1234", "US") == "94105"
    assert normalize_zip_for("meta", "SW1A 1AA", "GB") == "sw1a1aa"
    assert normalize_country_for("meta", " US ") == "us"
    assert normalize_country_for("google", "us") == "US"
    assert normalize_country_for("meta", "USA") is None


def test_missing_values_are_never_hashed() -> None:
    assert hashed(None) is None
    assert hashed("") is None
    assert normalize_name_for("meta", "  ") is None
