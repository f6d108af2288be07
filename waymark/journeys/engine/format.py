"""Plain-text summaries of ticks for the terminal."""

from __future__ import annotations

from waymark.journeys.engine.tick import TickResult


def format_tick(result: TickResult) -> str:
    lines = [
        f"journeys tick as of {result.as_of:%Y-%m-%d %H:%M:%S} UTC ({result.journeys} journeys)",
        f"  entered           {result.entered:>8,}",
        f"  advanced          {result.advanced:>8,}",
        f"  sent to outbox    {result.sent:>8,}",
        f"  suppressed        {sum(result.suppressed.values()):>8,}"
        f"  ({result.delayed:,} delayed, the rest dropped)",
    ]
    lines += [f"    {reason:<28}{count:>8,}" for reason, count in sorted(result.suppressed.items())]
    lines.append(f"  exited            {sum(result.exited.values()):>8,}")
    lines += [f"    {reason:<28}{count:>8,}" for reason, count in sorted(result.exited.items())]
    lines.append(f"  converted         {result.converted:>8,}")
    lines.append(f"  instances looked at {result.looked_at:>6,}")
    if result.deployed:
        lines.append("  deployed (journey versions first ticked):")
        lines += [f"    {name}: {text}" for name, text in sorted(result.deployed.items())]
    return "\n".join(lines)
