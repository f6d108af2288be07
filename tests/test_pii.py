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
    assert normalize_country_for("meta", "UK") == "gb"  # UK is not an ISO 3166-1 code
    assert normalize_country_for("meta", "Atlantis") is None  # not guessed


def test_missing_values_are_never_hashed() -> None:
    assert hashed(None) is None
    assert hashed("") is None
    assert normalize_name_for("meta", "  ") is None


# Meta, Conversions API "Customer information parameters" (the same normalisation the Custom
# Audiences "Hashing and Normalizing Data" guide asks for), with the digests it publishes:
# https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/customer-information-parameters
META_DOC = "https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/customer-information-parameters"


@pytest.mark.parametrize(
    ("field", "raw", "normalised", "digest"),
    [
        (
            "email",
            "John_Smith@gmail.com",
            "john_smith@gmail.com",
            "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f",
        ),
        (
            "phone",
            "(650)555-1212",  # a US number; the country code is prefixed
            "16505551212",
            "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176",
        ),
        (
            "first_name",
            "Mary",
            "mary",
            "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec",
        ),
        (
            "first_name",
            "Valéry",  # special characters are kept, UTF-8 encoded
            "valéry",
            "08e1996b5dd49e62a4b4c010d44e4345592a863bb9f8e3976219bac29417149c",
        ),
        (
            "first_name",
            "Vale\u0301ry",  # the same name typed with a combining accent
            "valéry",
            "08e1996b5dd49e62a4b4c010d44e4345592a863bb9f8e3976219bac29417149c",
        ),
        (
            "last_name",
            "정",
            "정",
            "8fa8cd9c440be61d0151429310034083132b35975c4bea67fdd74158eb51db14",
        ),
        (
            "country",
            "United States",
            "us",
            "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621",
        ),
    ],
)
def test_metas_published_vectors(field: str, raw: str, normalised: str, digest: str) -> None:
    sent = shaped({field: raw, "country": "US"} if field == "phone" else {field: raw})
    assert NORMALISE["meta"][field](raw) == normalised, META_DOC
    assert sha256_hex(normalised) == digest, META_DOC
    assert sent[field] == digest  # what a Meta audience sync actually sends


@pytest.mark.parametrize(
    ("raw", "country", "normalised"),
    [
        ("94035-1234", "US", "94035"),  # US: the first five digits
        ("1987", "AU", "1987"),
        ("75018", "FR", "75018"),
        ("M1 1AE", "GB", "m11ae"),  # UK: area, district and sector, no space
    ],
)
def test_metas_zip_examples(raw: str, country: str, normalised: str) -> None:
    # The zp examples of the page above.
    assert normalize_zip_for("meta", raw, country) == normalised


# Google, Data Manager API "Format user data" (Customer Match's formatting guide):
# https://developers.google.com/data-manager/api/devguides/concepts/formatting
GOOGLE_DOC = "https://developers.google.com/data-manager/api/devguides/concepts/formatting"


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        # gmail.com and googlemail.com: dots before the @ and any +tag removed.
        ("cloudy.sanfrancisco+shopping@gmail.com", "cloudysanfrancisco@gmail.com"),
        (" Cloudy.SanFrancisco@GoogleMail.com ", "cloudysanfrancisco@googlemail.com"),
        # Other domains keep their dots and plus signs, lower-cased.
        ("user.name+NYC@Example.com", "user.name+nyc@example.com"),
        # Leading, trailing and intermediate whitespace is removed.
        (" user.name @ example.com ", "user.name@example.com"),
    ],
)
def test_googles_published_email_examples(raw: str, normalised: str) -> None:
    assert normalize_email_for("google", raw) == normalised, GOOGLE_DOC
    # Meta has no such rule: the dots are part of the address it hashes.
    if "gmail" in raw.lower() and "." in raw.split("@")[0]:
        assert normalize_email_for("meta", raw) != normalised


def test_googles_published_phone_example() -> None:
    # "the US phone number (800)555-0100 should be formatted and normalized to +18005550100"
    assert normalize_phone_for("google", "(800)555-0100", "US") == "+18005550100", GOOGLE_DOC
    assert normalize_phone_for("meta", "(800)555-0100", "US") == "18005550100"


def test_google_takes_zip_and_country_in_clear() -> None:
    # postal_code and region_code are not hashed; region_code is ISO 3166-1 alpha-2.
    sent = shaped({"zip": "94035", "country": "United States"}, platform="google")
    assert sent == {"zip": "94035", "country": "US"}


NORMALISE = {
    platform: {
        "email": lambda raw, p=platform: normalize_email_for(p, raw),
        "phone": lambda raw, p=platform: normalize_phone_for(p, raw, "US"),
        "first_name": lambda raw, p=platform: normalize_name_for(p, raw),
        "last_name": lambda raw, p=platform: normalize_name_for(p, raw),
        "country": lambda raw, p=platform: normalize_country_for(p, raw),
    }
    for platform in ("meta", "google")
}


def shaped(fields: dict, platform: str = "meta") -> dict:
    from dataclasses import replace

    from activations.destinations.meta.capabilities import CAPABILITIES
    from activations.payloads import shaped_fields as shape

    return shape(fields, replace(CAPABILITIES, hashing=platform))
