"""The hard parts of real customer data, injected on purpose at realistic low rates.

- junk placeholders (``test@test.com``, ``0000000000``, ``unknown``) typed by many unrelated
  people: never in truth, and must never join profiles;
- households sharing one email (~1.5% of people) and families sharing one device (~1%): each
  member keeps their own account, so a naive graph over-merges them;
- typos by sales reps in CRM rows (names, ~1% of emails);
- malformed rows for the quarantine (bad timestamps, no ids, empty order ids, broken emails),
  only when ``malformed_rate`` > 0, always as valid JSON / valid CSV.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from waymark.generate import catalog, ids, names

HOUSEHOLD_PAIR_SHARE = 0.015
SHARED_DEVICE_PAIR_SHARE = 0.01
NIL_ANON_DEVICE_SHARE = 0.004
JUNK_USER_ID_DEVICE_SHARE = 0.015

JUNK_EMAILS: tuple[str, ...] = (
    "test@test.com",
    "noemail@noemail.com",
    "none@none.com",
    "na@na.com",
    "N/A",
    "",
    "Test@Test.com",
    "no@email.com",
)
JUNK_AGENT_EMAILS: tuple[str, ...] = ("unknown@unknown.com", "noemail@noemail.com", "N/A", "")
JUNK_PHONES: tuple[str, ...] = (
    "0000000000",
    "+1 000 000 0000",
    "1234567890",
    "555-555-5555",
    "N/A",
)
JUNK_CALLERS: tuple[str, ...] = ("anonymous", "0000000000", "Restricted", "unknown", "")
JUNK_USER_IDS: tuple[str, ...] = ("null", "undefined", "unknown", "0")
NIL_UUID = "00000000-0000-0000-0000-000000000000"
BAD_TIMESTAMPS: tuple[str, ...] = (
    "2026-02-31T25:61:00Z",
    "not a timestamp",
    "31/13/2026 10:00",
    "NaN",
)


@dataclass(frozen=True)
class PairTraits:
    """What persons ``2k`` and ``2k+1`` share; empty strings when they are strangers."""

    kind: str = ""
    household_id: str = ""
    shared_email: str | None = None
    shared_device_id: str = ""
    country: catalog.Country | None = None
    timezone: str = ""
    last_name: str = ""


_NO_PAIR = PairTraits()


def _unit(seed: int, pair: int) -> float:
    """A cheap uniform draw from (seed, pair) (splitmix64), to avoid seeding an RNG per pair."""
    x = (seed * 0x9E3779B97F4A7C15 + pair * 0xBF58476D1CE4E5B9 + 0x94D049BB133111EB) & (2**64 - 1)
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & (2**64 - 1)
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & (2**64 - 1)
    return (x ^ (x >> 31)) / 2**64


def pair_traits(seed: int, index: int, customers: int) -> PairTraits:
    """Household / shared-device traits of the pair containing person ``index``."""
    pair = index // 2
    if 2 * pair + 1 >= customers:
        return _NO_PAIR
    roll = _unit(seed, pair)
    household = roll < HOUSEHOLD_PAIR_SHARE
    shared = (
        HOUSEHOLD_PAIR_SHARE - 0.001
        <= roll
        < HOUSEHOLD_PAIR_SHARE + SHARED_DEVICE_PAIR_SHARE - 0.001
    )
    if not (household or shared):
        return _NO_PAIR
    rng = ids.pair_rng(seed, pair)
    country = catalog.COUNTRIES[rng.randrange(len(catalog.COUNTRIES))]
    last = rng.choice(names.LAST_NAMES[country.code])
    shared_email = None
    if household:
        number = ids.unique_number(seed, pair, ids.suffix_modulus(customers), salt=5)
        slug = names.ascii_slug(last)
        local = rng.choice((f"{slug}.family", f"the{slug}s", f"{slug}household"))
        shared_email = f"{local}{number}@{rng.choice(country.email_domains)}"
    return PairTraits(
        kind="household" if household else "shared_device",
        household_id=f"H{pair:08d}" if household else "",
        shared_email=shared_email,
        shared_device_id=ids.uuid4(rng) if shared else "",
        country=country,
        timezone=rng.choice(country.timezones),
        last_name=last if household or rng.random() < 0.5 else "",
    )


def junk_email(rng: random.Random, well_formed: bool = False) -> str:
    """A placeholder typed into an email field; ``well_formed`` ones pass syntax checks."""
    if well_formed:
        return rng.choice(JUNK_EMAILS[:4])
    return rng.choice(JUNK_EMAILS)


def junk_phone(rng: random.Random) -> str:
    """A placeholder typed into a phone field."""
    return rng.choice(JUNK_PHONES)


def broken_email(email: str, rng: random.Random) -> str:
    """An email that fails validation (for the quarantine): ``jane.doe@``, missing TLD, etc."""
    local, _, domain = email.partition("@")
    return rng.choice((f"{local}@", f"{local}@{domain.split('.')[0]}", f"{local}@@{domain}"))
