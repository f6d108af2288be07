"""Consent and email/SMS engagement: who may be messaged, what they received, how they reacted.

Consent is written per identifier and purpose as it changes (granted at a form or checkout,
denied, revoked after an unsubscribe). Sends only go to identifiers whose latest consent is
granted, and stop after an unsubscribe, a complaint or a hard bounce, as an ESP would. Clicks
become sessions on the person's phone or computer, so engagement and web events line up.
"""

from __future__ import annotations

from waymark.generate import ids
from waymark.generate.behaviour import Plan, Session, pick_device
from waymark.generate.catalog import SITE, UTM_SOURCE
from waymark.generate.clock import MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE
from waymark.generate.contact import e164, international, messy_email
from waymark.generate.people import Person
from waymark.generate.runtime import Campaign, Ctx

_OPEN_RATE = {"vip": 0.55, "repeat": 0.4, "win_back": 0.35, "lead": 0.3, "one_time": 0.3}
_OPEN_RATE |= {"browser": 0.2, "lapsing": 0.25}
_CLICK_GIVEN_OPEN = 0.16
_UNSUBSCRIBE = 0.006
_COMPLAINT = 0.0006


def write_messaging(ctx: Ctx, person: Person, plan: Plan) -> None:
    """Write consent records and engagement rows; add click-through sessions to the plan."""
    if person.email is not None:
        _email(ctx, person, plan)
    if person.nsn and (person.user_id or person.guest):
        _sms(ctx, person, plan)
    if person.user_id and plan.account_ms is not None:
        _ads_consent(ctx, person, plan.account_ms)


def _consent(
    ctx: Ctx, person: Person, kind: str, value: str, purpose: str, status: str, source: str, ms: int
) -> None:
    clock = ctx.clock
    if not clock.contains(ms):
        return
    person.note(kind, value)
    row = [ids.hex_id(person.rng, "cns_"), kind, value, purpose, status, source, clock.utc(ms)]
    ctx.writer.row("consent", clock.month(ms), row)


def _revoke(ctx: Ctx, person: Person, kind: str, value: str, purpose: str, ms: int) -> None:
    """Consent withdrawn: STOP keywords for SMS, the preference centre for everything else."""
    source = "sms_keyword" if purpose == "sms_marketing" else "preference_center"
    _consent(ctx, person, kind, value, purpose, "revoked", source, ms)


def _engagement(
    ctx: Ctx,
    person: Person,
    channel: str,
    recipient: str,
    event: str,
    campaign: str,
    ms: int,
    bounce: str = "",
    url: str = "",
) -> bool:
    clock = ctx.clock
    if not clock.contains(ms):
        return False
    person.note("email" if channel == "email" else "phone", recipient)
    row = [ids.hex_id(person.rng, "eng_"), channel, recipient, event, bounce, campaign, url]
    row.append(clock.utc(ms))
    ctx.writer.row("messaging_engagement", clock.month(ms), row)
    return True


def _first_contact(person: Person, plan: Plan) -> tuple[int, str] | None:
    """When and where the person first gave their email to the shop."""
    if plan.lead_ms is not None:
        return plan.lead_ms + 30_000, "web_form"
    if plan.account_ms is not None:
        signup_by_checkout = any(s.signup and s.kind == "purchase" for s in plan.sessions)
        return plan.account_ms + 60_000, "checkout" if signup_by_checkout else "web_form"
    if plan.orders:
        return plan.orders[0].created_ms + 30_000, "checkout"
    return None


def _email(ctx: Ctx, person: Person, plan: Plan) -> None:
    rng, clock = person.rng, ctx.clock
    contact = _first_contact(person, plan)
    if contact is None:
        return
    granted_ms, source = contact
    if granted_ms < clock.start_ms:
        granted_ms, source = clock.start_ms + rng.randrange(3 * MS_PER_DAY), "crm_import"
    # The subscription uses the account / signup email: an ESP record carries nothing else,
    # so a work address subscribed here could never be linked to the person.
    email = person.email or ""
    typed = messy_email(rng, email, 0.1)
    share = 1.0 if person.persona == "lead" else (0.4 if person.guest else 0.55)
    if rng.random() >= share:
        if source != "crm_import" or rng.random() < 0.6:
            _consent(ctx, person, "email", typed, "email_marketing", "denied", source, granted_ms)
        _winback_by_ad(plan)
        return
    _consent(ctx, person, "email", typed, "email_marketing", "granted", source, granted_ms)
    stop_ms = _email_campaigns(ctx, person, plan, email, granted_ms)
    session = plan.winback
    if session is not None and granted_ms < session.start_ms < stop_ms:
        campaign = f"winback_{clock.month(session.start_ms).replace('-', '_')}"
        sent = session.start_ms - rng.randrange(MS_PER_DAY, 3 * MS_PER_DAY)
        _engagement(ctx, person, "email", email, "delivered", campaign, sent)
        _engagement(ctx, person, "email", email, "opened", campaign, session.start_ms - 600_000)
        url = f"{SITE}/sale?utm_source=newsletter&utm_medium=email&utm_campaign={campaign}"
        _engagement(
            ctx, person, "email", email, "clicked", campaign, session.start_ms - 3000, url=url
        )
        session.kind, session.campaign, session.path = "email_click", campaign, "/sale"
        session.ad = False
    else:
        _winback_by_ad(plan)


def _winback_by_ad(plan: Plan) -> None:
    if plan.winback is not None and plan.winback.kind == "purchase":
        plan.winback.ad = True


def _email_campaigns(ctx: Ctx, person: Person, plan: Plan, email: str, granted_ms: int) -> int:
    """Simulate bulk email sends after opt-in; return when sending stopped (or the end)."""
    rng, clock = person.rng, ctx.clock
    open_rate = _OPEN_RATE.get(person.persona, 0.25)
    lapse_ms = plan.orders[-1].created_ms if plan.lifecycle in ("churned", "at_risk") else None
    stray_revoke = granted_ms + rng.randrange(1, 400) * MS_PER_DAY if rng.random() < 0.02 else None
    for campaign in ctx.campaigns:
        if campaign.channel != "email" or campaign.sent_ms <= granted_ms or rng.random() > 0.8:
            continue
        sent = campaign.sent_ms + rng.randrange(3 * MS_PER_HOUR)
        if sent >= clock.end_ms:
            break
        if stray_revoke is not None and sent > stray_revoke:
            _revoke(ctx, person, "email", email, "email_marketing", stray_revoke)
            return stray_revoke
        roll = rng.random()
        if roll < 0.004:
            _engagement(ctx, person, "email", email, "bounced", campaign.name, sent, "hard")
            return sent
        if roll < 0.02:
            _engagement(ctx, person, "email", email, "bounced", campaign.name, sent, "soft")
            continue
        _engagement(ctx, person, "email", email, "delivered", campaign.name, sent)
        rate = open_rate * (0.3 if lapse_ms is not None and sent > lapse_ms else 1.0)
        if rng.random() >= rate:
            continue
        opened = sent + rng.randrange(2 * MS_PER_MINUTE, 2 * MS_PER_DAY)
        if not _engagement(ctx, person, "email", email, "opened", campaign.name, opened):
            continue
        if rng.random() < _CLICK_GIVEN_OPEN:
            _click(ctx, person, plan, campaign, opened + rng.randrange(5_000, 600_000), email)
        roll = rng.random()
        if roll < _UNSUBSCRIBE * (2.5 if lapse_ms else 1.0) or roll > 1 - _COMPLAINT:
            event = "unsubscribed" if roll < 0.5 else "complained"
            at = opened + rng.randrange(MS_PER_MINUTE, 10 * MS_PER_MINUTE)
            _engagement(ctx, person, "email", email, event, campaign.name, at)
            if event == "complained" or rng.random() < 0.9:
                revoked = at + rng.randrange(MS_PER_MINUTE, MS_PER_HOUR)
                _revoke(ctx, person, "email", email, "email_marketing", revoked)
            return at
    return clock.end_ms


def _click(
    ctx: Ctx, person: Person, plan: Plan, campaign: Campaign, ms: int, recipient: str
) -> None:
    """A tracked link click, and the visit it starts on one of the person's devices."""
    medium = campaign.channel
    url = f"{SITE}{campaign.path}?utm_source={UTM_SOURCE[medium]}&utm_medium={medium}"
    url += f"&utm_campaign={campaign.name}"
    if not _engagement(
        ctx, person, campaign.channel, recipient, "clicked", campaign.name, ms, url=url
    ):
        return
    if ms < ctx.clock.end_ms - MS_PER_HOUR:
        session = Session(ms + 2_000, pick_device(person, 0.5), f"{medium}_click")
        session.campaign, session.path = campaign.name, campaign.path
        plan.sessions.append(session)


def _sms(ctx: Ctx, person: Person, plan: Plan) -> None:
    rng, clock = person.rng, ctx.clock
    if rng.random() >= 0.3 or person.nsn is None:
        return
    moments = [s.start_ms for s in plan.sessions if s.kind == "purchase" or s.signup]
    granted_ms = min(moments, default=clock.start_ms) + 90_000
    source = "checkout" if moments else "sms_keyword"
    code, nsn = person.country.code, person.nsn
    number = e164(code, nsn) if rng.random() < 0.9 else international(code, nsn, 1)
    _consent(ctx, person, "phone", number, "sms_marketing", "granted", source, granted_ms)
    for campaign in ctx.campaigns:
        if campaign.channel != "sms" or campaign.sent_ms <= granted_ms or rng.random() > 0.9:
            continue
        sent = campaign.sent_ms + rng.randrange(MS_PER_HOUR)
        if not _engagement(ctx, person, "sms", number, "delivered", campaign.name, sent):
            break
        if rng.random() < 0.07:
            _click(
                ctx, person, plan, campaign, sent + rng.randrange(60_000, 3 * MS_PER_HOUR), number
            )
        if rng.random() < 0.012:
            stop = sent + rng.randrange(60_000, MS_PER_HOUR)
            if _engagement(ctx, person, "sms", number, "unsubscribed", campaign.name, stop):
                _revoke(ctx, person, "phone", number, "sms_marketing", stop + 20_000)
            return


def _ads_consent(ctx: Ctx, person: Person, account_ms: int) -> None:
    rng, clock = person.rng, ctx.clock
    at, source = account_ms + 5_000, "web_form"
    if at < clock.start_ms:
        if rng.random() < 0.5:
            return
        at, source = clock.start_ms + rng.randrange(3 * MS_PER_DAY), "crm_import"
    uid = person.user_id or ""
    granted = rng.random() < 0.65
    status = "granted" if granted else "denied"
    _consent(ctx, person, "user_id", uid, "ads_personalisation", status, source, at)
    if granted and rng.random() < 0.05:
        later = at + rng.randrange(MS_PER_DAY, 120 * MS_PER_DAY)
        _revoke(ctx, person, "user_id", uid, "ads_personalisation", later)
