"""The customer view on real behaviour: the CDNOW purchase log through the orders contract.

Every expectation is computed from the file itself, not typed in: order counts, revenue,
first-time versus repeat buyers and the RFM scores (formula documented on `customers`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA, Builder, query
from waymark.core.instants import parse_instant
from waymark.samples.cdnow import read_purchases, write_cdnow_orders

CDNOW = SHARED_DATA / "cdnow" / "CDNOW_master.txt"
AS_OF = date(1998, 7, 1)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CDNOW.exists(), reason="../shared/data/cdnow is not beside the project"),
]


def scores(values: dict[str, float]) -> dict[str, int]:
    """1 + floor(5 * (rank - 1) / n), capped at 5, with rank() semantics: ties share a rank."""
    ordered = sorted(values.values())
    n = len(ordered)
    first_rank: dict[float, int] = {}
    for index, value in enumerate(ordered):
        first_rank.setdefault(value, index + 1)
    return {key: min(5, 1 + (5 * (first_rank[value] - 1)) // n) for key, value in values.items()}


@pytest.fixture(scope="module")
def cdnow_warehouse(builder: Builder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cdnow")
    write_cdnow_orders(CDNOW, root / "data")
    warehouse = root / "warehouse.duckdb"
    builder.build(root / "data", warehouse, as_of=parse_instant(AS_OF.isoformat()))
    return warehouse


@pytest.fixture(scope="module")
def expected() -> dict[str, dict[str, object]]:
    per_customer: dict[str, dict[str, object]] = defaultdict(
        lambda: {"orders": 0, "revenue": Decimal("0"), "last": date.min}
    )
    for purchase in read_purchases(CDNOW):
        customer = per_customer[f"cdnow-{purchase.customer_id}"]
        customer["orders"] += 1
        customer["revenue"] += Decimal(purchase.dollars)
        customer["last"] = max(customer["last"], purchase.purchased_on)
    recency = {key: -float((AS_OF - c["last"]).days) for key, c in per_customer.items()}
    frequency = {key: float(c["orders"]) for key, c in per_customer.items()}
    monetary = {key: float(c["revenue"]) for key, c in per_customer.items()}
    r, f, m = scores(recency), scores(frequency), scores(monetary)
    for key, customer in per_customer.items():
        customer["scores"] = (r[key], f[key], m[key])
    return dict(per_customer)


def actual(warehouse: Path) -> dict[str, tuple]:
    rows = query(
        warehouse,
        "select identifiers.identifier_value, customers.order_count, customers.revenue, "
        "customers.recency_days, customers.r_score, customers.f_score, customers.m_score "
        "from marts.customers as customers "
        "inner join marts.customer_identifiers as identifiers "
        "on identifiers.customer_id = customers.customer_id "
        "and identifiers.identifier_type = 'user_id'",
    )
    return {row[0]: row[1:] for row in rows}


def test_every_customer_and_order_arrives(cdnow_warehouse: Path, expected: dict) -> None:
    customers = actual(cdnow_warehouse)
    assert len(customers) == len(expected) == 23_570
    assert sum(orders for orders, *_ in customers.values()) == 69_659
    total = sum(Decimal(str(revenue)) for _, revenue, *_ in customers.values())
    assert total == sum(c["revenue"] for c in expected.values()) == Decimal("2500315.63")


def test_order_counts_and_revenue_per_customer(cdnow_warehouse: Path, expected: dict) -> None:
    customers = actual(cdnow_warehouse)
    mismatches = [
        key
        for key, (orders, revenue, *_rest) in customers.items()
        if orders != expected[key]["orders"]
        or Decimal(str(revenue)).quantize(Decimal("0.01")) != expected[key]["revenue"]
    ]
    assert mismatches == []


def test_first_time_and_repeat_buyers(cdnow_warehouse: Path, expected: dict) -> None:
    one_time = sum(1 for c in expected.values() if c["orders"] == 1)
    repeat = len(expected) - one_time
    counted = dict(
        query(
            cdnow_warehouse,
            "select order_count > 1, count(*) from marts.customers group by 1",
        )
    )
    print(f"\nCDNOW: {one_time} one-time buyers, {repeat} repeat buyers")
    assert counted == {False: one_time, True: repeat}


def test_rfm_scores_match_the_file(cdnow_warehouse: Path, expected: dict) -> None:
    customers = actual(cdnow_warehouse)
    wrong = {
        key: (tuple(row[3:]), expected[key]["scores"])
        for key, row in customers.items()
        if tuple(row[3:]) != expected[key]["scores"]
    }
    assert not wrong, list(wrong.items())[:5]
    recency_days = {key: row[2] for key, row in customers.items()}
    assert all(recency_days[k] == (AS_OF - c["last"]).days for k, c in expected.items())
