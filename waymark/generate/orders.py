"""Orders: baskets, money in the customer's currency, status history, and their CSV rows.

An order is exported once per status change (placed, paid, shipped, delivered; sometimes
cancelled or refunded), each row carrying the latest ``updated_at``, like a shop's incremental
export. Amounts are integer cents internally and written with a dot and two decimals.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from waymark.generate import catalog, ids, traps
from waymark.generate.clock import MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE
from waymark.generate.contact import messy_email, spelled
from waymark.generate.people import Device, Person
from waymark.generate.runtime import Ctx

_TAX_RATES = {"US": (0.0, 0.04, 0.0625, 0.0725, 0.0875), "CA": (0.05, 0.13, 0.15)}
_LINES = ((1, 0.6), (2, 0.28), (3, 0.09), (4, 0.03))


@dataclass(slots=True)
class Order:
    """One checkout: what was bought, for how much, and what happened to it afterwards."""

    order_id: str
    device: Device
    created_ms: int
    account_id: str
    cart_id: str
    currency: str
    lines: list[tuple[catalog.Product, int, int]]
    subtotal: int
    discount: int
    shipping: int
    tax: int
    total: int
    email: str
    phone: str
    junk_email: bool = False
    statuses: list[tuple[str, int]] = field(default_factory=list)
    delivered_ms: int | None = None

    @property
    def final_status(self) -> str:
        """Status of the last change (which may lie after the window end)."""
        return self.statuses[-1][0]


def money(cents: int) -> str:
    """Integer cents as a decimal with a dot and two places (`12.50`)."""
    return f"{cents // 100}.{cents % 100:02d}"


def local_price(product: catalog.Product, currency: str) -> int:
    """Catalogue price in the local currency, rounded to a .99 price point."""
    whole = round(product.price_cents * catalog.CURRENCY_FACTORS[currency] / 100)
    return max(whole, 1) * 100 - 1


def make_order(
    person: Person, device: Device, created_ms: int, guest: bool, order_number: int
) -> Order:
    """Draw a basket, its totals, status history and the contact details typed at checkout."""
    rng = person.rng
    currency = person.country.currency
    roll, total_w, count = rng.random(), 0.0, 1
    for n, weight in _LINES:
        total_w += weight
        if roll < total_w:
            count = n
            break
    if person.persona == "vip":
        count += rng.randrange(0, 3)
    lines = []
    for product in rng.sample(catalog.PRODUCTS, count):
        quantity = 1 if rng.random() < 0.85 else 2
        lines.append((product, quantity, local_price(product, currency)))
    subtotal = sum(q * p for _, q, p in lines)
    discount = subtotal * rng.choice((10, 15, 20)) // 100 if rng.random() < 0.2 else 0
    shipping = 0 if subtotal >= 7500 else rng.choice((499, 599, 695))
    tax_rate = rng.choice(_TAX_RATES.get(person.country.code, (0.0,)))
    tax = round((subtotal - discount) * tax_rate)
    order = Order(
        order_id=ids.hex_id(rng, "ord_", 14),
        device=device,
        created_ms=created_ms,
        account_id="" if guest or not person.user_id else person.user_id,
        cart_id=ids.hex_id(rng, "cart_", 12),
        currency=currency,
        lines=lines,
        subtotal=subtotal,
        discount=discount,
        shipping=shipping,
        tax=tax,
        total=subtotal - discount + shipping + tax,
        email=_checkout_email(person, order_number, guest or not person.user_id),
        phone=_checkout_phone(person),
    )
    order.junk_email = order.email in traps.JUNK_EMAILS
    _status_history(rng, order)
    return order


def _checkout_email(person: Person, order_number: int, guest: bool) -> str:
    rng = person.rng
    email = person.email or ""
    if person.shared_email and (order_number == 0 or rng.random() < 0.5):
        email = person.shared_email
    elif person.work_email and not guest and rng.random() < 0.4:
        email = person.work_email
    elif rng.random() < (0.02 if guest else 0.003):
        # A guest order still needs an email to be valid, so its placeholder is well formed.
        return traps.junk_email(rng, well_formed=guest)
    return messy_email(rng, email, 0.12)


def _checkout_phone(person: Person) -> str:
    rng = person.rng
    roll = rng.random()
    if person.nsn and roll < 0.6:
        return spelled(rng, person.country.code, person.nsn, country_known=True)
    if roll > 0.97:
        return traps.junk_phone(rng)
    return ""


def _status_history(rng: random.Random, order: Order) -> None:
    t = order.created_ms
    order.statuses.append(("placed", t))
    roll = rng.random()
    if roll < 0.03:
        order.statuses.append(
            ("cancelled", t + rng.randrange(10 * MS_PER_MINUTE, 36 * MS_PER_HOUR))
        )
        return
    t += rng.randrange(30_000, 10 * MS_PER_MINUTE)
    order.statuses.append(("paid", t))
    if roll < 0.05:
        order.statuses.append(("cancelled", t + rng.randrange(MS_PER_HOUR, 24 * MS_PER_HOUR)))
        return
    t += rng.randrange(8 * MS_PER_HOUR, 72 * MS_PER_HOUR)
    order.statuses.append(("shipped", t))
    t += rng.randrange(MS_PER_DAY, 6 * MS_PER_DAY)
    order.statuses.append(("delivered", t))
    order.delivered_ms = t
    if rng.random() < 0.06:
        order.statuses.append(("refunded", t + rng.randrange(3 * MS_PER_DAY, 25 * MS_PER_DAY)))


def write_order(ctx: Ctx, person: Person, order: Order) -> None:
    """Write the order's export rows (one per status change inside the window) and its lines."""
    clock, writer = ctx.clock, ctx.writer
    if not clock.contains(order.created_ms):
        return
    rng = person.rng
    # Quarantine work: one export row of a few orders loses its key.
    blank = -1
    if ctx.malformed_rate and rng.random() < ctx.malformed_rate * 2:
        blank = rng.randrange(len(order.statuses))
    if order.account_id:
        person.note("user_id", order.account_id)
    person.note("email", order.email)
    person.note("phone", order.phone, person.country.code)
    created = clock.utc(order.created_ms)
    month = clock.month(order.created_ms)
    amounts = [money(v) for v in (order.subtotal, order.discount, order.shipping, order.tax)]
    for position, (status, ms) in enumerate(order.statuses):
        if ms >= clock.end_ms:
            break
        order_id = "" if position == blank else order.order_id
        delivered = ""
        if order.delivered_ms is not None and order.delivered_ms <= ms:
            delivered = clock.utc(order.delivered_ms)
        row = [order_id, order.account_id, order.email, order.phone, status, order.currency]
        row += [
            *amounts,
            money(order.total),
            person.country.code,
            created,
            clock.utc(ms),
            delivered,
        ]
        writer.row("orders", clock.month(ms), row)
    order_id = order.order_id
    for line_number, (product, quantity, price) in enumerate(order.lines, start=1):
        writer.row(
            "order_items",
            month,
            [order_id, str(line_number), product.product_id, product.name, product.category]
            + [str(quantity), money(price)],
        )
