"""Sticky, deterministic assignment of customers to split variants and holdout groups.

A customer's point in [0, 1) is the first 8 hex digits of
`md5(salt || ':' || step_id || ':' || customer_id)` read as an integer and divided by 2**32.
The same customer always gets the same point, so re-running a tick or re-entering the journey never
moves them; including the step id keeps two splits in one journey independent. The SQL engine
computes the same value, so this module is its reference.
"""

from __future__ import annotations

import hashlib

from waymark.journeys.steps import Holdout, Split, Variant


def assignment_point(salt: str, step_id: str, customer_id: str) -> float:
    digest = hashlib.md5(f"{salt}:{step_id}:{customer_id}".encode(), usedforsecurity=False)
    return int(digest.hexdigest()[:8], 16) / 2**32


def choose_variant(split: Split, point: float) -> Variant:
    """The variant whose share of the cumulative weights contains `point`."""
    total = sum(variant.weight for variant in split.variants)
    edge = 0
    for variant in split.variants:
        edge += variant.weight
        if point < edge / total:
            return variant
    return split.variants[-1]


def in_control_group(holdout: Holdout, point: float) -> bool:
    return point * 100 < holdout.percent
