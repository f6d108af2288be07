"""Per-worker generation context: the window, the writer, and the shared campaign calendar."""

from __future__ import annotations

from dataclasses import dataclass, field

from waymark.generate.clock import MS_PER_DAY, MS_PER_HOUR, Clock
from waymark.generate.writer import ShardWriter


@dataclass(frozen=True)
class Campaign:
    """A bulk marketing send on one channel at one instant (everyone gets it within hours)."""

    name: str
    channel: str
    sent_ms: int
    path: str


def campaign_calendar(clock: Clock) -> tuple[Campaign, ...]:
    """Fortnightly newsletters, a few promotions, and monthly SMS offers across the window."""
    campaigns: list[Campaign] = []
    day = 3
    while day < clock.days:
        ms = clock.start_ms + day * MS_PER_DAY + 15 * MS_PER_HOUR
        stamp = clock.day(ms).replace("-", "_")
        campaigns.append(Campaign(f"newsletter_{stamp}", "email", ms, "/new"))
        day += 14
    for share, name, path in (
        (0.18, "winter_clearance", "/sale"),
        (0.42, "spring_launch", "/new"),
        (0.63, "mothers_day_gifts", "/c/home"),
        (0.86, "summer_preview", "/c/apparel"),
    ):
        ms = clock.start_ms + int(clock.days * share) * MS_PER_DAY + 14 * MS_PER_HOUR
        campaigns.append(Campaign(name, "email", ms, path))
    day = 10
    while day < clock.days:
        ms = clock.start_ms + day * MS_PER_DAY + 17 * MS_PER_HOUR
        campaigns.append(
            Campaign(f"sms_offer_{clock.month(ms).replace('-', '_')}", "sms", ms, "/sale")
        )
        day += 30
    return tuple(sorted(campaigns, key=lambda c: (c.sent_ms, c.name)))


@dataclass
class Ctx:
    """Everything a worker needs to turn people into rows."""

    seed: int
    customers: int
    clock: Clock
    writer: ShardWriter
    malformed_rate: float
    campaigns: tuple[Campaign, ...] = field(default=())

    def __post_init__(self) -> None:
        self.campaigns = campaign_calendar(self.clock)
