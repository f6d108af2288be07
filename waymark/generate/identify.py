"""Identity calls in a session: signup, login, newsletter and email-change ``identify`` calls.

They are what ties a device's anonymous id to a person: a login links it to the ``userId``, a
newsletter form or tracked email link to an email. The first identify a person sends carries
their phone as well, as apps send the stored profile on login; a person who switches their
account to their work address sends it on their next visit (one user id, two emails).
"""

from __future__ import annotations

from typing import Any, Protocol

from waymark.generate.behaviour import Plan, Session
from waymark.generate.contact import messy_email, spelled
from waymark.generate.people import Device, Person


class EventWriter(Protocol):
    """Where identity calls go: `waymark.generate.events.EventWriter` writes them as JSON lines."""

    def emit(self, person: Person, device: Device, ms: int, kind: str, **fields: Any) -> None: ...


def identity_calls(events: EventWriter, person: Person, plan: Plan, s: Session, t: int) -> int:
    """Identity calls at this point of the session, if the person makes any here."""
    rng, device = person.rng, s.device
    if device.never_identify:
        return t
    if person.user_id and plan.account_ms is not None:
        if device.logged_in and _announce_email_change(events, person, plan, s, t):
            return t + rng.randrange(2_000, 20_000)
        if device.logged_in or t < plan.account_ms:
            return t
        guest_order = s.order is not None and not s.order.account_id
        if not (s.signup or s.link or (s.order and not guest_order) or rng.random() < 0.5):
            return t
        device.logged_in = True
        if s.signup:
            events.emit(person, device, t, "identify", traits=contact_traits(person, full=True))
            if rng.random() < 0.1:
                events.emit(person, device, t + 500, "alias", previous_id=device.anon_id)
            if person.company and rng.random() < 0.3:
                group = f"acct_{person.company.lower().replace(' ', '_')}"
                events.emit(
                    person,
                    device,
                    t + 900,
                    "group",
                    group_id=group,
                    traits={"name": person.company},
                )
        elif not _announce_email_change(events, person, plan, s, t):
            send = not person.sent_contact_traits or rng.random() < 0.6
            traits = contact_traits(person, full=False) if send else None
            events.emit(person, device, t, "identify", traits=traits)
        return t + rng.randrange(2_000, 20_000)
    known = plan.lead_ms
    if person.email is None or device.email_linked or s.order is not None:
        return t  # guests identify at checkout instead
    if known is not None and t < known:
        return t
    clicked = s.kind == "email_click" and rng.random() < 0.8
    if s.lead or s.link or clicked or (known is not None and rng.random() < 0.2):
        device.email_linked = True
        traits = contact_traits(person, full=s.lead)
        events.emit(person, device, t, "identify", traits=traits)
        return t + rng.randrange(2_000, 20_000)
    return t


def _announce_email_change(
    events: EventWriter, person: Person, plan: Plan, s: Session, t: int
) -> bool:
    """After switching the account to their work address, the next identify carries it."""
    change = plan.email_change_ms
    if change is None or t < change or person.work_email is None or person.email_change_sent:
        return False
    person.email_change_sent = True
    traits = contact_traits(person, full=False, email=person.work_email)
    events.emit(person, s.device, t, "identify", traits=traits)
    return True


def contact_traits(person: Person, full: bool, email: str | None = None) -> dict[str, object]:
    """Identify traits: the whole profile at signup, the email (and once the phone) later.

    The first identify a person sends carries their phone, as apps send the stored profile
    on login; without a country trait the phone is spelled internationally so it still
    normalises (staging assumes the default country for national numbers).
    """
    rng = person.rng
    traits: dict[str, object] = {"email": messy_email(rng, email or person.email or "", 0.08)}
    if full:
        traits |= {"first_name": person.first_name, "last_name": person.last_name}
    if person.nsn and (full or not person.sent_contact_traits):
        traits["phone"] = spelled(rng, person.country.code, person.nsn, full)
    if full:
        traits |= {"country": person.country.code, "timezone": person.timezone}
    person.sent_contact_traits = True
    return traits
