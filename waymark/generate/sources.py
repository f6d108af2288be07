"""CSV row writers for the CRM, the contact centre and the ad platforms.

Each writer spells identifiers the way that system really would: sales reps type emails with
stray capitals and the odd typo, telephony records the caller's number as raw digits, ad
platforms only know the anonymous id the landing page assigned.
"""

from __future__ import annotations

from waymark.generate import catalog, ids, traps
from waymark.generate.behaviour import Plan
from waymark.generate.clock import MS_PER_DAY, MS_PER_HOUR
from waymark.generate.contact import caller_ani, messy_email, spelled, typo_email, typo_name
from waymark.generate.people import Device, Person
from waymark.generate.runtime import Ctx

_PLATFORM_SOURCES = {
    "google": ("google",),
    "meta": ("facebook", "instagram"),
    "tiktok": ("tiktok",),
}
_CLICK_PARAM = {"google": "gclid", "meta": "fbclid", "tiktok": "ttclid"}
_AD_CONTENT = ("ad_a", "ad_b", "carousel", "video_15s")
_LANDING_PATHS = ("/", "/sale", "/c/apparel", "/c/footwear", "/new")


def write_ad_click(
    ctx: Ctx, person: Person, device: Device, landing_ms: int
) -> tuple[dict[str, str], str]:
    """Write the ad click that started a session; return the landing's campaign and URL."""
    rng, clock = person.rng, ctx.clock
    platform, campaign_id, campaign_name, medium = rng.choice(catalog.AD_CAMPAIGNS)
    source = rng.choice(_PLATFORM_SOURCES[platform])
    content = rng.choice(_AD_CONTENT)
    term = rng.choice(catalog.SEARCH_TERMS) if platform == "google" else ""
    click = ids.click_id(rng, platform)
    url = f"{catalog.SITE}{rng.choice(_LANDING_PATHS)}?utm_source={source}&utm_medium={medium}"
    url += f"&utm_campaign={campaign_name}&utm_content={content}&{_CLICK_PARAM[platform]}={click}"
    campaign = {"source": source, "medium": medium, "name": campaign_name, "content": content}
    if term:
        campaign["term"] = term
    clicked = landing_ms - rng.randrange(800, 4_000)
    if clock.contains(clicked):
        person.note("anonymous_id", device.anon_id)
        row = [click, platform, campaign_id, campaign_name, source, medium, campaign_name]
        row += [content, term, device.anon_id, url, clock.utc(clicked)]
        ctx.writer.row("ad_clicks", clock.month(clicked), row)
    return campaign, url


def write_crm(ctx: Ctx, person: Person, plan: Plan) -> None:
    """Write the person's CRM contact: one contact id, exported again after ~35% of updates.

    The contact's email field is chosen once (personal, work or household address, sometimes
    with a rep's typo that a later update may fix); each export re-types its case and spacing.
    No duplicate contacts: identity allows one ``crm_contact_id`` per customer.
    """
    if not person.in_crm or person.email is None:
        return
    rng, clock = person.rng, ctx.clock
    moments = [m for m in (plan.lead_ms, plan.account_ms) if m is not None]
    moments += [o.created_ms for o in plan.orders[:1]]
    known = min(moments, default=clock.start_ms + rng.randrange(clock.days) * MS_PER_DAY)
    created = known  # an existing customer's contact predates the window
    if known >= clock.start_ms:
        created += rng.randrange(MS_PER_HOUR, 5 * MS_PER_DAY)
    updated = max(created, clock.start_ms) + rng.randrange(0, 20 * MS_PER_DAY)
    contact_id = ids.crm_contact_id(rng)
    # Email damage and second addresses only where the contact's phone ties it to the person.
    has_phone = bool(person.nsn) and rng.random() < 0.8
    email = person.email
    if person.shared_email and has_phone and rng.random() < 0.5:
        email = person.shared_email
    elif person.work_email and has_phone and rng.random() < 0.6:
        email = person.work_email  # B2B contact
    typed = typo_email(rng, email) if has_phone and rng.random() < 0.035 else email
    for _ in range(2 if rng.random() < 0.35 else 1):
        if updated >= clock.end_ms:
            break
        _crm_row(ctx, person, contact_id, created, updated, typed, has_phone)
        typed = email if rng.random() < 0.5 else typed  # the typo may be fixed by the update
        updated += rng.randrange(7 * MS_PER_DAY, 90 * MS_PER_DAY)


def _crm_row(
    ctx: Ctx,
    person: Person,
    contact_id: str,
    created: int,
    updated: int,
    email: str,
    phone_ok: bool,
) -> None:
    """One export of the contact, as the sales rep last typed it."""
    rng, clock, code = person.rng, ctx.clock, person.country.code
    phone = ""
    if phone_ok and person.nsn:
        phone = spelled(rng, code, person.nsn, country_known=True)
    elif rng.random() < 0.02:
        phone = traps.junk_phone(rng)
    email = messy_email(rng, email, 0.45)
    if phone_ok and rng.random() < 0.05:
        email = traps.junk_email(rng)  # typed to get past a required field
    elif phone_ok and ctx.malformed_rate and rng.random() < ctx.malformed_rate * 3:
        email = traps.broken_email(email.strip().lower(), rng)
    first, last = person.first_name, person.last_name
    if rng.random() < 0.03:
        first, last = (
            (typo_name(rng, first), last) if rng.random() < 0.5 else (first, typo_name(rng, last))
        )
    person.note("crm_contact_id", contact_id)
    person.note("email", email)
    person.note("phone", phone, code)
    row = [contact_id, email, phone, first, last, person.company, rng.choice(catalog.SALES_OWNERS)]
    row += [code, clock.utc(created), clock.utc(updated)]
    ctx.writer.row("crm_contacts", clock.month(updated), row)


def write_support(ctx: Ctx, person: Person, plan: Plan) -> None:
    """Write tickets (one row per status change) and the calls about them."""
    rng = person.rng
    for order in plan.orders:
        status = order.final_status
        chance = 0.6 if status == "refunded" else (0.3 if status == "cancelled" else 0.1)
        if rng.random() >= chance:
            continue
        reason = {"refunded": "returns", "cancelled": "billing"}.get(
            status, rng.choice(("delivery", "delivery", "product", "billing", "other"))
        )
        start = order.statuses[-1][1] if status != "delivered" else order.created_ms
        _ticket(ctx, person, start + rng.randrange(MS_PER_HOUR, 8 * MS_PER_DAY), reason, False)
    if person.user_id and not plan.orders and rng.random() < 0.02:
        start = ctx.clock.start_ms + rng.randrange(ctx.clock.days - 1) * MS_PER_DAY
        _ticket(ctx, person, start + rng.randrange(MS_PER_DAY), "account", False)
    if person.repeat_caller:
        when = plan.orders[-1].created_ms + 2 * MS_PER_DAY if plan.orders else None
        if when is None or not ctx.clock.contains(when + 10 * MS_PER_DAY):
            span = max(ctx.clock.days - 12, 1) * MS_PER_DAY
            when = ctx.clock.start_ms + rng.randrange(span)
        _ticket(ctx, person, when, rng.choice(("delivery", "billing")), True)
    if person.nsn and plan.orders and rng.random() < 0.04:
        when = plan.orders[0].created_ms + rng.randrange(MS_PER_DAY, 5 * MS_PER_DAY)
        _call(ctx, person, "", when, "delivery", "inbound", True, "neutral")


def _ticket(ctx: Ctx, person: Person, created: int, reason: str, repeat: bool) -> None:
    rng, clock = person.rng, ctx.clock
    roll = rng.random()
    channel = "phone" if repeat or roll < 0.35 else ("email" if roll < 0.8 else "chat")
    if channel == "phone" and not person.nsn:
        channel = "email"
    ticket_id = ids.hex_id(rng, "tkt_", 12)
    email = ""
    if channel != "phone" or rng.random() < 0.5:
        email = messy_email(rng, person.email or "", 0.3)
        if rng.random() < 0.03:
            email = rng.choice(traps.JUNK_AGENT_EMAILS)
    phone = ""
    if person.nsn and (channel == "phone" or rng.random() < 0.2):
        phone = caller_ani(rng, person.country.code, person.nsn)
    negative = repeat or (reason in ("returns", "delivery") and rng.random() < 0.5)
    sentiment = "negative" if negative else rng.choice(("neutral", "neutral", "positive"))
    history = [("open", created)]
    if repeat:
        calls = [
            created + rng.randrange(MS_PER_HOUR, 6 * MS_PER_DAY) for _ in range(rng.randint(2, 4))
        ]
        calls.insert(0, created)
        for i, at in enumerate(sorted(calls)):
            _call(ctx, person, ticket_id, at, reason, "inbound", False, sentiment, i == 0)
        history.append(("pending", created + 2 * MS_PER_HOUR))
        history.append(("solved", max(calls) + rng.randrange(MS_PER_DAY, 4 * MS_PER_DAY)))
    else:
        if channel == "phone":
            solved_fast = rng.random() < 0.6
            _call(ctx, person, ticket_id, created, reason, "inbound", solved_fast, sentiment)
        if rng.random() < 0.6:
            history.append(("pending", created + rng.randrange(MS_PER_HOUR, 12 * MS_PER_HOUR)))
            if channel == "phone" and rng.random() < 0.3:
                at = history[-1][1] + rng.randrange(MS_PER_HOUR, MS_PER_DAY)
                _call(ctx, person, ticket_id, at, reason, "outbound", False, sentiment)
        if rng.random() < 0.9:
            history.append(
                ("solved", history[-1][1] + rng.randrange(2 * MS_PER_HOUR, 4 * MS_PER_DAY))
            )
    if history[-1][0] == "solved" and rng.random() < 0.8:
        history.append(("closed", history[-1][1] + rng.randrange(3 * MS_PER_DAY, 5 * MS_PER_DAY)))
    csat = ""
    if history[-1][0] in ("solved", "closed") and rng.random() < 0.4:
        csat = str(rng.choice((1, 2, 3)) if negative else rng.choice((3, 4, 5, 5)))
    solved_at = next((ms for status, ms in history if status == "solved"), None)
    for status, ms in history:
        if not clock.contains(ms):
            continue
        person.note("email", email)
        person.note("phone", phone)
        solved = clock.utc(solved_at) if solved_at is not None and solved_at <= ms else ""
        score = csat if solved else ""
        row = [ticket_id, channel, email, phone, reason, status, score, sentiment]
        row += [clock.utc(created), clock.utc(ms), solved]
        ctx.writer.row("support_tickets", clock.month(ms), row)


def _call(
    ctx: Ctx,
    person: Person,
    ticket_id: str,
    at: int,
    reason: str,
    direction: str,
    resolved: bool,
    sentiment: str,
    first: bool = True,
) -> None:
    rng, clock = person.rng, ctx.clock
    if not clock.contains(at) or person.nsn is None:
        return
    phone = caller_ani(rng, person.country.code, person.nsn)
    if direction == "inbound" and rng.random() < 0.06:
        phone = rng.choice(traps.JUNK_CALLERS)  # withheld or unknown caller id
    person.note("phone", phone)
    handle = rng.randrange(90, 1_500) if first else rng.randrange(120, 900)
    row = [ids.hex_id(rng, "call_"), ticket_id, phone, direction, reason, str(handle)]
    row += ["true" if resolved else "false", sentiment, clock.utc(at)]
    ctx.writer.row("support_calls", clock.month(at), row)
