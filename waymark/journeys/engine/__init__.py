"""The journey engine: `tick(as_of)` evaluates every journey over the warehouse in SQL.

See `waymark.journeys.engine.tick` for what a tick does and docs/journeys.md ("The engine") for
the state tables, reason codes and guarantees.
"""

from waymark.journeys.engine.runner import open_project, tick_warehouse
from waymark.journeys.engine.state import Tables
from waymark.journeys.engine.tick import DEFAULT_LOOKBACK, TickResult, tick

__all__ = ["DEFAULT_LOOKBACK", "Tables", "TickResult", "open_project", "tick", "tick_warehouse"]
