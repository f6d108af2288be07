"""The CDNOW purchase log (Fader and Hardie) as Waymark orders.

CDNOW_master.txt holds 69,659 real purchases by 23,570 customers of the online CD retailer,
1997-01-01 to 1998-06-30: `customer_id date number_of_cds dollar_value`, separated by runs of
spaces. Each line becomes one delivered USD order of the customer's account (`account_id`),
so the log flows through the same orders contract, identity graph and customer view as any
shop's export.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ORDER_COLUMNS = [
    "order_id", "account_id", "email", "phone", "status", "currency", "subtotal", "discount",
    "shipping", "tax", "total", "shipping_country", "created_at", "updated_at", "delivered_at",
]  # fmt: skip


@dataclass(frozen=True)
class CdnowPurchase:
    customer_id: str
    purchased_on: date
    cds: int
    dollars: str  # kept as written: the file's two decimals are the amount charged


def read_purchases(path: Path) -> list[CdnowPurchase]:
    """Every purchase in the file, in file order; a malformed line raises naming its number."""
    purchases = []
    with path.open() as handle:
        header = handle.readline().split()
        if header != ["customer_id", "date", "number_of_cds", "dollar_value"]:
            raise ValueError(f"{path}:1: unexpected header {header}")
        for number, line in enumerate(handle, start=2):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 4:
                raise ValueError(f"{path}:{number}: expected 4 fields, got {len(fields)}")
            customer_id, day, cds, dollars = fields
            purchases.append(
                CdnowPurchase(
                    customer_id=customer_id,
                    purchased_on=date(int(day[:4]), int(day[4:6]), int(day[6:])),
                    cds=int(cds),
                    dollars=dollars,
                )
            )
    return purchases


def write_cdnow_orders(source: Path, out: Path) -> int:
    """Write `out/orders/orders-cdnow.csv` in the orders contract; returns the number of orders.

    A customer can buy more than once on a day, so the order id counts purchases per
    (customer, day) in file order.
    """
    orders_dir = out / "orders"
    orders_dir.mkdir(parents=True, exist_ok=True)
    seen: Counter[tuple[str, date]] = Counter()
    purchases = read_purchases(source)
    with (orders_dir / "orders-cdnow.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ORDER_COLUMNS)
        for purchase in purchases:
            key = (purchase.customer_id, purchase.purchased_on)
            seen[key] += 1
            day = purchase.purchased_on.isoformat()
            stamp = f"{day}T00:00:00Z"
            writer.writerow(
                [
                    f"cdnow-{purchase.customer_id}-{day}-{seen[key]}",
                    f"cdnow-{purchase.customer_id}",
                    "", "", "delivered", "USD", purchase.dollars, "0", "0", "0",
                    purchase.dollars, "US", stamp, stamp, stamp,
                ]
            )  # fmt: skip
    return len(purchases)
