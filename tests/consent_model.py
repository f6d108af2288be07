"""The documented consent, suppression and erasure rules (docs/activations.md), written in Python
independently of the SQL that enforces them, over a small model of customers and their
identities, for the property tests in `test_activations_consent_properties.py`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

Identifier = tuple[str, str]
"""(identifier_type, identifier_value), as in marts.customer_identifiers."""


@dataclass
class Person:
    customer_id: str
    email: str | None
    consent: dict[str, str | None]
    member: bool
    in_marts: bool = True
    anonymous_ids: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    """Every email the person's customer id holds (the golden `email` is the latest)."""

    def identifiers(self) -> set[Identifier]:
        """What marts.customer_identifiers holds for the customer id (nothing once it left)."""
        if not self.in_marts:
            return set()
        return {("anonymous_id", a) for a in self.anonymous_ids} | {
            ("email", e) for e in self.emails
        }


@dataclass
class Suppression:
    address: str
    event_type: str
    bounce: str | None
    occurred_at: datetime


@dataclass
class Request:
    customer_id: str
    identifiers: set[Identifier]
    """What the customer held when the request was recorded."""


@dataclass
class Model:
    people: dict[str, Person]
    events: list[Suppression] = field(default_factory=list)
    messages: dict[str, tuple[str, str]] = field(default_factory=dict)
    """idempotency key -> (customer_id, purpose)"""
    history: list[tuple[str, str, str, str | None]] = field(default_factory=list)
    """marts.customer_id_history: (type, value, customer_id, previous_customer_id)."""
    requests: list[Request] = field(default_factory=list)

    def known(self, customer_id: str) -> bool:
        """A customer now, or a customer id the history has seen."""
        person = self.people.get(customer_id)
        return (person is not None and person.in_marts) or any(
            customer_id in (row[2], row[3]) for row in self.history
        )

    def held_by(self, customer_id: str) -> set[Identifier]:
        """What a request for the customer id keeps: the identifiers the customer holds, or, for
        an id that is no customer any more, every identifier the history gave it."""
        person = self.people.get(customer_id)
        if person is not None and person.in_marts:
            return person.identifiers()
        return {(t, v) for t, v, now, before in self.history if customer_id in (now, before)}

    def erased(self) -> set[str]:
        """Customer ids covered by a request: the one it names, whoever holds one of its
        identifiers now, and every id the history ever mapped one of them to."""
        covered = set()
        for request in self.requests:
            covered.add(request.customer_id)
            for person in self.people.values():
                if person.identifiers() & request.identifiers:
                    covered.add(person.customer_id)
            for kind, value, now, before in self.history:
                if (kind, value) in request.identifiers:
                    covered |= {now, before} - {None}
        return covered

    def reason(
        self,
        person: Person,
        purpose: str,
        as_of: datetime,
        message: bool,
        erased: set[str] | None = None,
    ) -> str | None:
        """Why nothing may go to the person for the purpose (None: it may), by the documented
        rules: a sync to a CRM webhook checks the purpose's channel; a journey email also the
        email channel, and needs an address."""
        if person.customer_id in (self.erased() if erased is None else erased):
            return "deleted:erasure_request"
        email = person.email if person.in_marts else None
        if message and email is None:
            return "no_address"
        checked = message or purpose == "email_marketing"
        mine = [e for e in self.events if checked and e.address == email and e.occurred_at <= as_of]
        if any(e.event_type == "bounced" and e.bounce == "hard" for e in mine):
            return "suppressed:hard_bounced"
        if purpose == "transactional":
            return None
        if any(e.event_type == "complained" for e in mine):
            return "suppressed:complained"
        if not person.in_marts:
            return "no_consent:unknown_customer"
        status = person.consent[purpose]
        if status == "granted":
            return None
        if purpose == "email_marketing" and any(e.event_type == "unsubscribed" for e in mine):
            return "suppressed:unsubscribed"
        return f"no_consent:{status or 'unknown'}"
