"""Personal data hidden where Waymark prints or keeps what it would send, shapes kept.

What is personal is decided by what a field means, not by what its value looks like:

- a sync field is personal when the warehouse column it is mapped from, or the name it has at
  the destination (for audiences, the identifier it fills), is one of `PERSONAL_COLUMNS`:
  names, email, phone, address, postcode, birth date, ... Pseudonymous keys such as
  `customer_id` are not;
- a journey message's personal values are its recipient and the customer's personal columns.

Every occurrence of such a value in what is printed is masked, under whatever key the vendor's
format puts it (`firstname`, `LastName`, a subject line): `j***@***.org`, `+*********42`,
`M***`. Values Waymark's own configuration supplies (From and Reply-To addresses, endpoints,
audience ids) are not personal and stay in clear.

Free text whose meaning is unknown (a vendor's error message quoting what it refused) has no
fields to go by: `mask_text` hides the email addresses and phone numbers in it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

PERSONAL_COLUMNS = frozenset(
    {
        "email", "email_address", "phone", "phone_number", "mobile", "mobile_phone",
        "first_name", "last_name", "middle_name", "full_name", "name", "given_name",
        "family_name", "surname", "address", "address_line_1", "address_line_2", "street",
        "street_address", "city", "zip", "zip_code", "postal_code", "postcode", "birth_date",
        "birthdate", "date_of_birth", "birthday", "ip", "ip_address",
    }
)  # fmt: skip
"""Warehouse columns and identifier names whose values are a person's data."""

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{6,}$")
_EMAIL_IN_TEXT = re.compile(r"[^@\s<>\"',]+@[^@\s<>\"',]+")


def masked(value: str) -> str:
    """One personal value with its shape kept: `j***@***.org`, `+*********42`, `M***`."""
    text = value.strip()
    if _EMAIL.match(text):
        local, _, domain = text.partition("@")
        return f"{local[:1]}***@***.{domain.rpartition('.')[2]}"
    if _PHONE.match(text):
        digits = re.sub(r"\D", "", text)
        return ("+" if text.startswith("+") else "") + "*" * (len(digits) - 2) + digits[-2:]
    return f"{text[:1]}***" if text else value


def mask_text(text: str) -> str:
    """Free text of unknown meaning: a whole value that is an address, and every email address
    inside it, masked."""
    if _EMAIL.match(text.strip()) or _PHONE.match(text.strip()):
        return masked(text)
    return _EMAIL_IN_TEXT.sub(lambda m: masked(m.group(0)), text)


def personal_fields(fields: Mapping[str, str]) -> frozenset[str]:
    """The mapped fields of a sync (destination field -> `column` or `customer.column`) that
    carry personal data: by the column they come from, or by what the destination calls them."""
    return frozenset(
        field
        for field, source in fields.items()
        if source.removeprefix("customer.") in PERSONAL_COLUMNS or field in PERSONAL_COLUMNS
    )


def personal_values(*rows: Mapping[str, Any] | None, fields: Iterable[str]) -> set[str]:
    """The values the rows hold in the personal `fields`, as text."""
    wanted = set(fields)
    return {
        str(value).strip()
        for row in rows
        if row
        for field, value in row.items()
        if field in wanted and value is not None and str(value).strip()
    }


def mask_values(document: Any, values: Iterable[str]) -> Any:
    """`document` (JSON-like) with every occurrence of the personal `values` masked: a string
    equal to one (ignoring case) is masked whole, and inside longer strings each occurrence
    that stands as a word of its own is. One-character values are masked only whole."""
    personal = sorted({v for v in values if v}, key=len, reverse=True)
    if not personal:
        return document
    exact = {v.casefold(): v for v in personal}
    inside = [v for v in personal if len(v) > 1]
    pattern = (
        re.compile("|".join(rf"(?<!\w){re.escape(v)}(?!\w)" for v in inside), flags=re.IGNORECASE)
        if inside
        else None
    )

    def walk(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [walk(item) for item in value]
        if isinstance(value, int | float) and not isinstance(value, bool):
            # A personal number (a phone kept as an integer) is masked whole.
            return masked(str(value)) if str(value) in exact else value
        if not isinstance(value, str):
            return value
        if value.strip().casefold() in exact:
            return masked(value)
        return pattern.sub(lambda m: masked(m.group(0)), value) if pattern else value

    return walk(document)
