"""Segment-spec events: replay a person's sessions as page, screen, track, identify, alias and
group calls, one JSON object per line, partitioned by the event's UTC day.

Identity behaves like a real SDK: a device's events carry only its ``anonymousId`` until the
person identifies on it (login, signup, newsletter form, guest checkout); after a login every
event also carries the ``userId``. A few SDKs are buggy (nil anonymous id, literal ``"null"``
user id) and, when asked, a few lines are malformed for the quarantine.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from waymark.generate import catalog, ids, sources, traps
from waymark.generate.behaviour import Plan, Session
from waymark.generate.contact import messy_email, spelled
from waymark.generate.identify import identity_calls
from waymark.generate.orders import Order, local_price
from waymark.generate.people import Device, Person
from waymark.generate.runtime import Ctx

_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _stdlib_encode(obj: object) -> bytes:
    return _JSON(obj).encode("utf-8")


_encode: Callable[[object], bytes]
try:  # orjson (pinned via dagster-dbt) is ~15x faster and writes the same compact UTF-8 JSON
    import orjson

    _encode = orjson.dumps
except ImportError:  # pragma: no cover
    _encode = _stdlib_encode
_RETRY_RATE = 0.002
# Only behavioural calls are broken on purpose: a broken identify would silently cut a link
# that the truth file still counts.
_BREAKABLE = frozenset({"track", "page", "screen"})
SITE = catalog.SITE


class EventWriter:
    """Turns sessions into JSON lines for one worker's shard."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.clock = ctx.clock
        self.writer = ctx.writer
        self.malformed = ctx.malformed_rate
        self._products: dict[tuple[str, str], dict[str, object]] = {}

    def emit(
        self,
        person: Person,
        device: Device,
        ms: int,
        kind: str,
        *,
        event: str | None = None,
        name: str | None = None,
        properties: dict[str, object] | None = None,
        traits: dict[str, object] | None = None,
        previous_id: str | None = None,
        group_id: str | None = None,
        url: str | None = None,
        campaign: dict[str, str] | None = None,
    ) -> None:
        """Write one call, unless it falls outside the window."""
        clock = self.clock
        if not clock.start_ms <= ms < clock.end_ms:
            return
        rng = person.rng
        user_id = person.user_id if device.logged_in else device.junk_user_id
        msg: dict[str, object] = {
            "messageId": ids.uuid4(rng),
            "type": kind,
            "anonymousId": device.anon_id,
            "userId": user_id,
        }
        if previous_id is not None:
            msg["previousId"] = previous_id
        if group_id is not None:
            msg["groupId"] = group_id
        if event is not None:
            msg["event"] = event
        if name is not None:
            msg["name"] = name
        msg["timestamp"] = clock.utc_ms(ms)
        msg["originalTimestamp"] = clock.local_ms(ms + device.skew_ms, person.timezone)
        context: dict[str, object] = {
            "ip": device.ip,
            "userAgent": device.user_agent,
            "timezone": person.timezone,
            "locale": person.locale,
        }
        if url is not None:
            context["page"] = {"url": url}
        context["device"] = {"type": device.kind}
        if campaign is not None:
            context["campaign"] = campaign
        msg["context"] = context
        if traits is not None:
            msg["traits"] = traits
            person.note("email", traits.get("email"))  # type: ignore[arg-type]
            person.note("phone", traits.get("phone"), person.country.code)  # type: ignore[arg-type]
        if properties is not None:
            msg["properties"] = properties
        if self.malformed and kind in _BREAKABLE and rng.random() < self.malformed * 1.2:
            if rng.random() < 0.5:
                bad = rng.choice(traps.BAD_TIMESTAMPS)
                msg["timestamp"] = msg["originalTimestamp"] = bad
            else:
                del msg["anonymousId"], msg["userId"]
        elif not device.noted:
            device.noted = True
            person.note("anonymous_id", device.anon_id)
        if device.logged_in and not person.noted_user_id and "userId" in msg:
            person.noted_user_id = True
            person.note("user_id", user_id)
        line = _encode(msg)
        day = clock.day(ms)
        self.writer.event(day, line)
        if rng.random() < _RETRY_RATE:
            self.writer.event(day, line)  # client retry: same messageId, dropped downstream

    def session(self, person: Person, plan: Plan, s: Session) -> None:
        """Replay one session: landing, identity calls, browsing, cart, checkout or survey."""
        rng, device, t = person.rng, s.device, s.start_ms
        app = device.kind in catalog.APP_DEVICES
        if s.kind == "survey" and s.order is not None:
            identity_calls(self, person, plan, s, t)
            score = s.score
            bucket = "promoter" if score >= 9 else ("passive" if score >= 7 else "detractor")
            props = {"survey": "nps_post_delivery", "score": score, "order_id": s.order.order_id}
            props["comment"] = rng.choice(catalog.SURVEY_COMMENTS[bucket])
            self.emit(person, device, t, "track", event="Survey Submitted", properties=props)
            return
        campaign, url = None, f"{SITE}{s.path}"
        if s.ad:
            campaign, url = sources.write_ad_click(self.ctx, person, device, t)
        elif s.kind in ("email_click", "sms_click"):
            medium = "email" if s.kind == "email_click" else "sms"
            source = catalog.UTM_SOURCE[medium]
            campaign = {"source": source, "medium": medium, "name": s.campaign}
            url = f"{SITE}{s.path}?utm_source={source}&utm_medium={medium}"
            url += f"&utm_campaign={s.campaign}"
            if medium == "email":
                props = {"campaign": s.campaign, "url": url}
                self.emit(
                    person,
                    device,
                    t,
                    "track",
                    event="Email Link Clicked",
                    properties=props,
                    url=url,
                    campaign=campaign,
                )
            t += rng.randrange(800, 3_000)
        landing = "Landing" if s.path == "/" else s.path.strip("/").split("/")[-1].title()
        self._view(person, device, t, landing, url if not app else None, campaign)
        t += rng.randrange(5_000, 40_000)
        t = identity_calls(self, person, plan, s, t)
        if s.order is not None:
            self._purchase(person, s.order, t)
            return
        self._browse(person, device, t, app)

    def _view(
        self,
        person: Person,
        device: Device,
        t: int,
        name: str,
        url: str | None,
        campaign: dict[str, str] | None = None,
    ) -> None:
        if device.kind in catalog.APP_DEVICES:
            self.emit(person, device, t, "screen", name=name, campaign=campaign)
        else:
            path = url.split("?", 1)[0].removeprefix(SITE) if url else "/"
            self.emit(
                person,
                device,
                t,
                "page",
                name=name,
                url=url,
                campaign=campaign,
                properties={"path": path or "/"},
            )

    def _browse(self, person: Person, device: Device, t: int, app: bool) -> int:
        rng = person.rng
        if rng.random() < 0.3:
            props = {"query": rng.choice(catalog.SEARCH_TERMS)}
            self.emit(person, device, t, "track", event="Products Searched", properties=props)
            t += rng.randrange(5_000, 30_000)
        viewed = None
        for _ in range(rng.choice((0, 1, 1, 1, 2, 2, 3))):
            viewed = rng.choice(catalog.PRODUCTS)
            self._product(person, device, t, "Product Viewed", viewed)
            t += rng.randrange(10_000, 90_000)
        for _ in range(rng.choice((0, 0, 0, 1, 1, 2))):
            name, path = rng.choice(catalog.PAGES)
            self._view(person, device, t, name, None if app else f"{SITE}{path}")
            t += rng.randrange(5_000, 60_000)
        if viewed is not None and rng.random() < 0.18:
            if device.cart_id is None:
                device.cart_id = ids.hex_id(rng, "cart_", 12)
            self._product(person, device, t, "Product Added", viewed, device.cart_id)
        return t

    def _product(
        self,
        person: Person,
        device: Device,
        t: int,
        event: str,
        product: catalog.Product,
        cart_id: str | None = None,
        quantity: int = 1,
    ) -> None:
        key = (product.product_id, person.country.currency)
        props = self._products.get(key)
        if props is None:
            props = self._products[key] = {
                "product_id": product.product_id,
                "name": product.name,
                "category": product.category,
                "price": local_price(product, key[1]) / 100,
                "currency": key[1],
            }
        if cart_id is not None:
            props = {**props, "cart_id": cart_id, "quantity": quantity}
        url = None if device.kind in catalog.APP_DEVICES else f"{SITE}/p/{product.product_id}"
        # Shared dicts are safe: every call is serialised before anything else touches it.
        self.emit(person, device, t, "track", event=event, properties=props, url=url)

    def _purchase(self, person: Person, order: Order, t: int) -> None:
        device = order.device
        if device.cart_id is not None:
            order.cart_id = device.cart_id  # the person came back and bought their open cart
            device.cart_id = None
        steps = 2 * len(order.lines) + 3
        step = max((order.created_ms - t) // steps, 1_000)
        for product, quantity, _ in order.lines:
            self._product(person, device, t, "Product Viewed", product)
            t += step
            self._product(person, device, t, "Product Added", product, order.cart_id, quantity)
            t += step
        total = order.total / 100
        props = {"cart_id": order.cart_id, "value": total, "currency": order.currency}
        self.emit(person, device, t, "track", event="Checkout Started", properties=props)
        if not order.account_id:
            # The web checkout validated the address; a placeholder on the order export was
            # typed by the back office re-keying the order, so the identify keeps the real one.
            email = order.email
            if order.junk_email:
                email = messy_email(person.rng, person.email or "", 0.1)
            traits: dict[str, object] = {"email": email}
            traits |= {"first_name": person.first_name, "last_name": person.last_name}
            if person.nsn and not person.sent_contact_traits:
                traits["phone"] = spelled(person.rng, person.country.code, person.nsn, False)
            person.sent_contact_traits = True
            self.emit(person, device, t + step, "identify", traits=traits)
            device.email_linked = True
        props = {"order_id": order.order_id, "revenue": total, "currency": order.currency}
        props["cart_id"] = order.cart_id
        self.emit(
            person, device, order.created_ms, "track", event="Order Completed", properties=props
        )
