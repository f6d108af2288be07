"""How people's emails and phone numbers are minted and how each source spells them.

A person owns one canonical email (lower-case) and one national significant number (NSN).
Sources then write them the way real systems do: mixed case and stray spaces in CRM, national
formats where the row carries a country, international formats where it does not (support
calls, SMS), because staging assumes the default country (US) for national numbers.
"""

from __future__ import annotations

import random

from waymark.generate.ids import unique_number

# Area codes in use (never 555 and never starting with 0/1, which the blocklist rejects).
_US_AREAS = ("212", "312", "415", "512", "617", "646", "206", "303", "404", "305", "702", "718")
_CA_AREAS = ("416", "604", "514", "403", "613", "647", "778")
_CALLING = {"US": "1", "CA": "1", "GB": "44", "DE": "49", "FR": "33", "AU": "61", "NL": "31"}
_CALLING |= {"ES": "34", "IE": "353"}


def mint_nsn(rng: random.Random, seed: int, index: int, country: str) -> str:
    """A national significant number (no trunk 0, no country code), unique per person."""
    if country in ("US", "CA"):
        sub = unique_number(seed, index, 8_000_000, salt=1)
        areas = _US_AREAS if country == "US" else _CA_AREAS
        return f"{rng.choice(areas)}{200 + sub // 10_000:03d}{sub % 10_000:04d}"
    if country == "IE":
        sub = unique_number(seed, index, 10_000_000, salt=2)
        return f"8{rng.choice('3567')}{sub:07d}"
    sub = unique_number(seed, index, 100_000_000, salt=3)
    prefix = {
        "GB": f"7{rng.choice('456789')}",
        "DE": f"1{rng.choice('567')}{rng.choice('1257')}",
        "FR": rng.choice("67"),
        "AU": "4",
        "NL": "6",
        "ES": rng.choice("67"),
    }[country]
    return f"{prefix}{sub:08d}"


def e164(country: str, nsn: str) -> str:
    """The canonical E.164 form of a person's number."""
    return f"+{_CALLING[country]}{nsn}"


def _group(digits: str, sizes: tuple[int, ...], sep: str = " ") -> str:
    parts, pos = [], 0
    for size in sizes:
        parts.append(digits[pos : pos + size])
        pos += size
    if pos < len(digits):
        parts.append(digits[pos:])
    return sep.join(p for p in parts if p)


def national(country: str, nsn: str, style: int) -> str:
    """A national-format spelling (needs the country to normalise)."""
    if country in ("US", "CA"):
        a, b, c = nsn[:3], nsn[3:6], nsn[6:]
        return (f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"{a}.{b}.{c}", nsn, f"1-{a}-{b}-{c}")[style % 5]
    if country == "ES":
        return (_group(nsn, (3, 2, 2)), nsn)[style % 2]
    trunk = "0" + nsn
    if country == "GB":
        return (_group(trunk, (5,)), trunk, _group(trunk, (5, 3)))[style % 3]
    if country == "FR":
        return (_group(trunk, (2, 2, 2, 2)), trunk, _group(trunk, (2, 2, 2, 2), "."))[style % 3]
    if country == "NL":
        return (trunk[:2] + "-" + trunk[2:], trunk, _group(trunk, (2, 4)))[style % 3]
    if country == "AU":
        return (_group(trunk, (4, 3)), trunk)[style % 2]
    if country == "IE":
        return (_group(trunk, (3, 3)), trunk)[style % 2]
    return (_group(trunk, (4,)), trunk)[style % 2]  # DE


def international(country: str, nsn: str, style: int) -> str:
    """An international spelling (normalises without knowing the country)."""
    code = _CALLING[country]
    if country in ("US", "CA"):
        a, b, c = nsn[:3], nsn[3:6], nsn[6:]
        options = (
            f"+1{nsn}",
            f"+1 {a} {b} {c}",
            f"+1 ({a}) {b}-{c}",
            f"001{nsn}",
            f"+1-{a}-{b}-{c}",
        )
        return options[style % 5]
    options = (f"+{code}{nsn}", f"+{code} {_group(nsn, (4,))}", f"00{code} {_group(nsn, (4,))}")
    return options[style % 3]


def spelled(rng: random.Random, country: str, nsn: str, country_known: bool) -> str:
    """A phone as a source writes it; national formats only where they normalise back."""
    style = rng.getrandbits(8)
    if (country_known or country in ("US", "CA")) and rng.random() < 0.55:
        return national(country, nsn, style)
    return international(country, nsn, style)


def caller_ani(rng: random.Random, country: str, nsn: str) -> str:
    """The number a telephony system records for a call (ANI): raw digits, often with code."""
    roll = rng.random()
    if country in ("US", "CA"):
        if roll < 0.45:
            return "+1" + nsn
        return nsn if roll < 0.75 else "1" + nsn
    code = _CALLING[country]
    return f"+{code}{nsn}" if roll < 0.7 else f"00{code}{nsn}"


def messy_email(rng: random.Random, email: str, messiness: float) -> str:
    """An email as a human typed it: sometimes capitalised, shouted or padded with spaces."""
    if rng.random() >= messiness:
        return email
    local, _, domain = email.partition("@")
    roll = rng.random()
    if roll < 0.45:
        shaped = ".".join(p[:1].upper() + p[1:] for p in local.split(".")) + "@" + domain.title()
    elif roll < 0.6:
        shaped = email.upper()
    else:
        shaped = local[:1].upper() + local[1:] + "@" + domain
    if rng.random() < 0.5:
        shaped = rng.choice((" ", "  ", "")) + shaped + rng.choice((" ", "", "  "))
    return shaped


_DOMAIN_TYPOS = {
    "gmail.com": ("gmial.com", "gmai.com", "gmail.co"),
    "hotmail.com": ("hotmial.com", "hotmail.co"),
    "yahoo.com": ("yaho.com", "yahooo.com"),
    "outlook.com": ("outlok.com", "outloo.com"),
}


def typo_email(rng: random.Random, email: str) -> str:
    """A still-valid email with a sales rep's typo: swapped letters or a misspelt domain."""
    local, _, domain = email.partition("@")
    if domain in _DOMAIN_TYPOS and rng.random() < 0.5:
        return f"{local}@{rng.choice(_DOMAIN_TYPOS[domain])}"
    letters = [i for i in range(len(local) - 1) if local[i].isalpha() and local[i + 1].isalpha()]
    if not letters:
        return f"{local}x@{domain}"
    i = rng.choice(letters)
    if local[i] == local[i + 1]:
        return f"{local[:i]}{local[i + 1 :]}@{domain}"
    return f"{local[:i]}{local[i + 1]}{local[i]}{local[i + 2 :]}@{domain}"


def typo_name(rng: random.Random, name: str) -> str:
    """A name with one keying error: swapped, dropped or doubled letter."""
    if len(name) < 4:
        return name
    i = rng.randrange(1, len(name) - 1)
    roll = rng.random()
    if roll < 0.4:
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    if roll < 0.7:
        return name[:i] + name[i + 1 :]
    return name[:i] + name[i] + name[i:]
