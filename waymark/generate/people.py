"""Personas and identities: who a synthetic person is and which identifiers they own.

Everything about person ``i`` is drawn from ``person_rng(seed, i)``; what two people share (a
household email, a family tablet) is drawn from ``pair_rng(seed, i // 2)``, which both members
of the pair can recompute alone. That is what lets workers split the population anywhere and
still produce the same rows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from waymark.core.identifiers import is_junk, normalize
from waymark.generate import catalog, ids, names, traps
from waymark.generate.contact import e164, mint_nsn

# Persona shares: browsers and anonymous visitors dominate, buyers are ~37% of people.
PERSONAS: tuple[tuple[str, float], ...] = (
    ("anonymous", 0.25),
    ("browser", 0.19),
    ("lead", 0.20),
    ("one_time", 0.14),
    ("repeat", 0.08),
    ("vip", 0.02),
    ("lapsing", 0.08),
    ("win_back", 0.04),
)
BUYERS = frozenset({"one_time", "repeat", "vip", "lapsing", "win_back"})
ACCOUNT_PERSONAS = BUYERS | {"browser"}
_BUYER_PERSONAS = tuple((p, w) for p, w in PERSONAS if p in BUYERS)
_ACCOUNT_PERSONAS = tuple((p, w) for p, w in PERSONAS if p in ACCOUNT_PERSONAS)
_DEVICE_KINDS = tuple(zip(catalog.DEVICE_TYPES, catalog.DEVICE_WEIGHTS, strict=True))
_CRM_SHARE = {"lead": 0.7, "browser": 0.35}
_CRM_BUYER_SHARE = 0.55
_WORK_EMAIL_SHARE = 0.3
_GUEST_SHARE = 0.25
# Devices an account holder uses but never logs in on: no evidence links them, so they bound
# the recall any resolver can reach (the accuracy test prints that ceiling).
_UNLINKED_DEVICE_SHARE = 0.01
_REPEAT_CALLER_SHARE = 0.06


class Device:
    """One browser or app install: one anonymous id, its own cookie-scoped state."""

    __slots__ = (
        "anon_id",
        "kind",
        "user_agent",
        "ip",
        "skew_ms",
        "never_identify",
        "shared",
        "logged_in",
        "email_linked",
        "cart_id",
        "noted",
        "junk_user_id",
    )

    def __init__(self, rng: random.Random, country: catalog.Country, kind: str) -> None:
        self.anon_id = ids.uuid4(rng)
        self.kind = kind
        self.user_agent = rng.choice(catalog.USER_AGENTS[kind])
        self.ip = f"{rng.choice(country.ip_prefixes)}.{rng.randrange(256)}.{rng.randrange(256)}"
        self.ip += f".{rng.randrange(1, 255)}"
        self.skew_ms = 0 if rng.random() < 0.8 else rng.randrange(-90_000, 90_000)
        self.never_identify = False
        self.shared = False
        self.logged_in = False
        self.email_linked = False
        self.cart_id: str | None = None
        self.noted = False
        self.junk_user_id: str | None = None


@dataclass
class Person:
    """A synthetic customer: traits, identifiers, devices, and what they really used."""

    index: int
    person_id: str
    rng: random.Random
    persona: str
    country: catalog.Country
    timezone: str
    locale: str
    first_name: str
    last_name: str
    email: str | None
    work_email: str | None = None
    company: str = ""
    nsn: str | None = None
    user_id: str | None = None
    guest: bool = False
    in_crm: bool = False
    household_id: str = ""
    shared_email: str | None = None
    shared_device: bool = False
    unlinked_device: bool = False
    repeat_caller: bool = False
    noted_user_id: bool = False
    sent_contact_traits: bool = False
    email_change_sent: bool = False
    devices: list[Device] = field(default_factory=list)
    truth: dict[tuple[str, str], None] = field(default_factory=dict)
    noted: set[tuple[str, str, str | None]] = field(default_factory=set)

    @property
    def phone(self) -> str | None:
        """Canonical E.164 phone, if the person gave one anywhere."""
        return e164(self.country.code, self.nsn) if self.nsn else None

    def note(self, identifier_type: str, raw: str | None, country: str | None = None) -> None:
        """Record that a source really carried this identifier for this person (for truth)."""
        key = (identifier_type, raw, country)
        if not raw or key in self.noted:
            return
        self.noted.add(key)
        value = normalize(identifier_type, raw, country)
        if value is not None and not is_junk(identifier_type, value):
            self.truth[(identifier_type, value)] = None


def _choose(rng: random.Random, options: tuple[tuple[str, float], ...]) -> str:
    """Pick a name with probability proportional to its weight."""
    roll, total = rng.random() * sum(w for _, w in options), 0.0
    for name, weight in options:
        total += weight
        if roll < total:
            return name
    return options[-1][0]


def build_person(seed: int, index: int, customers: int) -> Person:
    """Draw one person's traits, identifiers and devices."""
    rng = ids.person_rng(seed, index)
    persona = _choose(rng, PERSONAS)
    pair = traps.pair_traits(seed, index, customers)
    if pair.household_id and persona not in BUYERS:
        persona = _choose(rng, _BUYER_PERSONAS)
    elif pair.shared_device_id and persona not in ACCOUNT_PERSONAS:
        persona = _choose(rng, _ACCOUNT_PERSONAS)
    country = pair.country or _country(rng)
    code = country.code
    tz = pair.timezone or rng.choice(country.timezones)
    first = rng.choice(names.FIRST_NAMES[code])
    last = pair.last_name or rng.choice(names.LAST_NAMES[code])
    modulus = ids.suffix_modulus(customers)
    person = Person(
        index=index,
        person_id=f"P{index:08d}",
        rng=rng,
        persona=persona,
        country=country,
        timezone=tz,
        locale=rng.choice(country.locales),
        first_name=first,
        last_name=last,
        email=None,
    )
    if persona == "anonymous":
        _add_devices(person, rng, (0.85, 0.15))
        return person
    number = ids.unique_number(seed, index, modulus)
    person.email = _personal_email(rng, first, last, number, country)
    # Household members keep to two addresses of their own plus the shared one: identity allows
    # at most three emails per customer.
    if rng.random() < _WORK_EMAIL_SHARE and not pair.household_id:
        company = rng.choice(catalog.COMPANIES)
        person.company = company.replace("-", " ").title()
        f, lst = names.ascii_slug(first), names.ascii_slug(last)
        person.work_email = f"{f}.{lst}{number}@{company}.com"
    if persona in ACCOUNT_PERSONAS:
        person.user_id = ids.user_id(seed, index)
        person.guest = persona == "one_time" and not pair.kind and rng.random() < _GUEST_SHARE
        if person.guest:
            person.user_id = None
    has_phone_share = 0.65 if person.user_id else (0.5 if person.guest else 0.15)
    if rng.random() < has_phone_share:
        person.nsn = mint_nsn(rng, seed, index, code)
    crm_share = _CRM_SHARE.get(persona, _CRM_BUYER_SHARE)
    person.in_crm = rng.random() < crm_share
    person.household_id = pair.household_id
    person.shared_email = pair.shared_email
    if person.shared_email:
        person.in_crm = person.in_crm or rng.random() < 0.3
    if person.user_id or person.guest:
        weights = (0.45, 0.33, 0.15, 0.07) if person.user_id else (1.0,)
    else:
        weights = (0.7, 0.3)
    _add_devices(person, rng, weights)
    if pair.shared_device_id:
        device = Device(random.Random(pair.shared_device_id), country, "tablet")
        device.anon_id = pair.shared_device_id
        device.shared = True
        person.devices.insert(min(1, len(person.devices)), device)
        person.shared_device = True
    if person.user_id and rng.random() < _UNLINKED_DEVICE_SHARE:
        extra = Device(rng, country, rng.choice(("mobile", "desktop")))
        extra.never_identify = True
        person.devices.append(extra)
        person.unlinked_device = True
    person.repeat_caller = bool(person.nsn and person.user_id) and (
        rng.random() < _REPEAT_CALLER_SHARE
    )
    mark_buggy_devices(rng, person.devices, bool(person.user_id))
    return person


def mark_buggy_devices(rng: random.Random, devices: list[Device], has_account: bool) -> None:
    """Give a few devices SDK bugs: a nil-UUID anonymous id, or a literal 'null' user id."""
    for device in devices:
        if device.shared:
            continue
        if rng.random() < traps.NIL_ANON_DEVICE_SHARE and has_account and not device.never_identify:
            device.anon_id = traps.NIL_UUID
        if has_account and rng.random() < traps.JUNK_USER_ID_DEVICE_SHARE:
            device.junk_user_id = rng.choice(traps.JUNK_USER_IDS)


def _country(rng: random.Random) -> catalog.Country:
    roll, total = rng.random(), 0.0
    for country in catalog.COUNTRIES:
        total += country.weight
        if roll < total:
            return country
    return catalog.COUNTRIES[0]


def _personal_email(
    rng: random.Random, first: str, last: str, number: int, country: catalog.Country
) -> str:
    f, lst = names.ascii_slug(first), names.ascii_slug(last)
    local = rng.choice((f"{f}.{lst}", f"{f}{lst}", f"{f[:1]}{lst}", f"{f}_{lst}", f"{lst}.{f}"))
    return f"{local}{number}@{rng.choice(country.email_domains)}"


def _add_devices(person: Person, rng: random.Random, weights: tuple[float, ...]) -> None:
    roll, total, count = rng.random(), 0.0, len(weights)
    for n, weight in enumerate(weights, start=1):
        total += weight
        if roll < total:
            count = n
            break
    for _ in range(count):
        kind = _choose(rng, _DEVICE_KINDS)
        person.devices.append(Device(rng, person.country, kind))
