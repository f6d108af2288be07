"""Funnel behaviour: when each persona visits, on which device, and when they buy.

A person's timeline is planned up front (sessions and orders with their instants), then
messaging adds email click-through sessions and the event writer replays everything in time
order. Personas follow the lifecycle the marts should find: browsers and leads never buy,
lapsing buyers stop (at risk or churned by the window end), win-backs return in its last weeks.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field

from waymark.generate.clock import MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE, Clock
from waymark.generate.orders import Order, make_order
from waymark.generate.people import BUYERS, Device, Person

_HOURS = (7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23)
_HOUR_WEIGHTS = (2, 4, 5, 5, 5, 7, 7, 5, 5, 5, 6, 7, 9, 10, 9, 6, 3)
_HOUR_CUMULATIVE = tuple(itertools.accumulate(_HOUR_WEIGHTS))
_PRE_WINDOW_ACCOUNT = {"browser": 0.5, "one_time": 0.35, "repeat": 0.7, "vip": 0.9}
_PRE_WINDOW_ACCOUNT |= {"lapsing": 0.85, "win_back": 0.9}
_EXTRA_BROWSE = {"anonymous": (1, 1, 1, 2, 2, 3, 4), "browser": (1, 2, 3, 4, 5)}
_EXTRA_BROWSE |= {"lead": (0, 1, 1, 2, 3), "one_time": (0, 1, 2, 3), "repeat": (1, 2, 3, 4)}
_EXTRA_BROWSE |= {"vip": (3, 5, 7, 9), "lapsing": (0, 1, 2), "win_back": (1, 2, 3)}
_EMAIL_CHANGE_SHARE = 0.35  # of account holders with a work address: they switch to it
_PROMOTER = {"vip": (0.75, 0.05), "repeat": (0.55, 0.1), "one_time": (0.4, 0.2)}
_PROMOTER |= {"lapsing": (0.2, 0.45), "win_back": (0.45, 0.2)}


@dataclass(slots=True)
class Session:
    """A visit on one device; ``kind`` is browse, purchase, email_click, sms_click or survey."""

    start_ms: int
    device: Device
    kind: str = "browse"
    order: Order | None = None
    campaign: str = ""
    path: str = "/"
    ad: bool = False
    signup: bool = False
    lead: bool = False
    link: bool = False
    score: int = -1


@dataclass
class Plan:
    """A person's planned timeline and the consent they gave along the way."""

    lifecycle: str
    account_ms: int | None = None
    lead_ms: int | None = None
    sessions: list[Session] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    winback: Session | None = None
    email_change_ms: int | None = None


def at_day(person: Person, clock: Clock, day: float) -> int:
    """An instant on window day ``day`` at a plausible local hour for the person."""
    rng = person.rng
    d = min(max(int(day), 0), clock.days - 1)
    hour = rng.choices(_HOURS, cum_weights=_HOUR_CUMULATIVE)[0] + rng.random()
    ms = clock.at_local_hour(d, hour, person.timezone)
    if ms < clock.start_ms:
        ms += MS_PER_DAY
    elif ms >= clock.end_ms - MS_PER_HOUR:
        ms = clock.end_ms - MS_PER_HOUR - rng.randrange(MS_PER_HOUR)
    return max(ms, clock.start_ms)


def pick_device(person: Person, primary: float = 0.6) -> Device:
    """The device a session happens on: mostly the primary, never the unlinked extra device."""
    usable = [d for d in person.devices if not d.never_identify]
    if len(usable) == 1 or person.rng.random() < primary:
        return usable[0]
    return person.rng.choice(usable[1:])


def plan_person(person: Person, clock: Clock) -> Plan:
    """Plan sessions and orders for one person over the window."""
    rng, days, persona = person.rng, clock.days, person.persona
    plan = Plan(lifecycle=_LIFECYCLE.get(persona, persona))
    sessions = plan.sessions

    def browse(day: float, **kwargs: object) -> Session:
        session = Session(at_day(person, clock, day), pick_device(person), **kwargs)  # type: ignore[arg-type]
        session.ad = session.ad or rng.random() < 0.1
        sessions.append(session)
        return session

    for _ in range(rng.choice(_EXTRA_BROWSE[persona])):
        browse(rng.uniform(0, days))
    if persona == "anonymous" and sessions:
        sessions[0].ad = rng.random() < 0.3
    if person.user_id:
        if rng.random() < _PRE_WINDOW_ACCOUNT[persona]:
            plan.account_ms = clock.start_ms - rng.randrange(MS_PER_DAY, 700 * MS_PER_DAY)
        elif persona == "browser":
            plan.account_ms = browse(rng.uniform(0, 0.85 * days), signup=True).start_ms
    if persona == "lead":
        plan.lead_ms = browse(rng.uniform(0, 0.9 * days), lead=True).start_ms
    if persona in BUYERS:
        _plan_orders(person, clock, plan, _order_days(rng, persona, days, plan))
    if person.user_id and person.work_email and rng.random() < _EMAIL_CHANGE_SHARE:
        plan.email_change_ms = clock.start_ms + int(rng.uniform(0.2, 0.8) * days * MS_PER_DAY)
    for device in person.devices:
        if device.never_identify:
            for _ in range(rng.choice((1, 1, 2))):
                sessions.append(Session(at_day(person, clock, rng.uniform(0, days)), device))
    _ensure_links(person, clock, plan)
    sessions.sort(key=lambda s: s.start_ms)
    return plan


_LIFECYCLE = {"browser": "prospect", "repeat": "active", "win_back": "reactivated"}


def _order_days(rng: random.Random, persona: str, days: int, plan: Plan) -> list[float]:
    if persona == "one_time":
        return [rng.uniform(0.03 * days, 0.98 * days)]
    if persona in ("repeat", "vip"):
        count = rng.choice((2, 2, 2, 3, 3, 4)) if persona == "repeat" else rng.randint(4, 7)
        return sorted(rng.uniform(0, days - 1) for _ in range(count))
    if persona == "lapsing":
        churned = rng.random() < 0.55
        plan.lifecycle = "churned" if churned else "at_risk"
        last = rng.uniform(0, max(2, days - 125)) if churned else days - rng.uniform(65, 115)
        last = max(last, 1.0)
        return [rng.uniform(0, last), last] if rng.random() < 0.3 else [last]
    early = [rng.uniform(0, max(2, days - 110)) for _ in range(rng.choice((1, 1, 2)))]
    return [*sorted(early), days - rng.uniform(2, 35)]


def _plan_orders(person: Person, clock: Clock, plan: Plan, order_days: list[float]) -> None:
    rng = person.rng
    for number, day in enumerate(order_days):
        start = at_day(person, clock, day)
        device = pick_device(person, 0.7)
        created = start + rng.randrange(4 * MS_PER_MINUTE, 20 * MS_PER_MINUTE)
        guest = person.user_id is None or rng.random() < 0.05
        order = make_order(person, device, created, guest, number)
        session = Session(start, device, "purchase", order=order, ad=rng.random() < 0.12)
        if person.user_id and plan.account_ms is None:
            plan.account_ms = start
            session.signup = True
        plan.orders.append(order)
        plan.sessions.append(session)
        if person.persona == "win_back" and number == len(order_days) - 1:
            plan.winback = session
        for _ in range(rng.choice((0, 1, 1, 2))):
            research = day - rng.uniform(0.2, 10)
            if research > 0:
                plan.sessions.append(Session(at_day(person, clock, research), pick_device(person)))
        if order.delivered_ms and clock.contains(order.delivered_ms) and rng.random() < 0.25:
            survey_ms = order.delivered_ms + rng.randrange(MS_PER_DAY, 4 * MS_PER_DAY)
            if clock.contains(survey_ms):
                survey = Session(survey_ms, device, "survey", order=order)
                survey.score = _nps(rng, person.persona, order.final_status == "refunded")
                plan.sessions.append(survey)


def _nps(rng: random.Random, persona: str, refunded: bool) -> int:
    promoter, detractor = _PROMOTER.get(persona, (0.4, 0.2))
    if refunded:
        promoter, detractor = 0.1, 0.7
    roll = rng.random()
    if roll < promoter:
        return rng.choice((9, 10))
    if roll < promoter + detractor:
        return rng.randint(0, 6)
    return rng.choice((7, 8))


def _ensure_links(person: Person, clock: Clock, plan: Plan) -> None:
    """Give every identifiable device a session where the person identifies on it.

    Without this, a device used only before signup would stay anonymous by accident; unlinked
    devices must stay a deliberate, rare trap (``Person.unlinked_device``).
    """
    known_ms = plan.account_ms if person.user_id else plan.lead_ms
    if known_ms is None and person.guest:
        purchases = [s.start_ms for s in plan.sessions if s.kind == "purchase"]
        known_ms = min(purchases, default=None)
    if known_ms is None:
        return
    rng = person.rng
    for device in person.devices:
        if device.never_identify:
            continue
        later = [s for s in plan.sessions if s.device is device and s.start_ms >= known_ms]
        if later:
            later[-1].link = True
            continue
        first_day = max(0, (max(known_ms, clock.start_ms) - clock.start_ms) // MS_PER_DAY)
        if first_day >= clock.days - 1:
            continue
        day = rng.uniform(first_day + 1, clock.days)
        plan.sessions.append(Session(at_day(person, clock, day), device, link=True))
