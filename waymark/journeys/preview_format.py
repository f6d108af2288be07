"""The text `waymark journeys preview` prints."""

from __future__ import annotations

import json
import textwrap

from waymark.journeys.preview import JourneyPreview, PreviewedSend


def format_preview(preview: JourneyPreview, *, html: bool = False) -> str:
    customer = preview.customer
    name = " ".join(str(customer.get(k)) for k in ("first_name", "last_name") if customer.get(k))
    lines = [
        f"journey {preview.journey.name} for customer {customer['customer_id']}",
        f"  {name or '(no name)'}, {customer.get('email') or 'no email'}, "
        f"{customer.get('phone') or 'no phone'}, time zone {customer.get('timezone') or 'unknown'}",
        f"  lifecycle stage {customer['lifecycle_stage']}",
    ]
    if preview.entry_event:
        event = preview.entry_event
        lines.append(f"entry event {event.event_id} at {event.occurred_at:%Y-%m-%d %H:%M:%S} UTC")
        lines.append(f"  {json.dumps(event.properties, ensure_ascii=False)}")
    for step_id, assigned in preview.assignments.items():
        lines.append(f"{step_id}: {assigned}")
    for send in preview.sends:
        lines += ["", *_send_lines(send, html)]
    return "\n".join(lines)


def _send_lines(sent: PreviewedSend, html: bool) -> list[str]:
    send = sent.step.send
    consent = f", consent {sent.consent}" if sent.consent else ""
    head = f"[{sent.step.id}] {send.channel} via {send.destination}"
    head += f" (template {send.template}, purpose {send.purpose}{consent})"
    lines = [head]
    if sent.variant:
        lines.append(f"  variant: {sent.variant}")
    if sent.error:
        return [*lines, f"  cannot render: {sent.error}"]
    message = sent.message
    assert message is not None
    if message.subject is not None:
        lines.append(f"  subject: {message.subject}")
    for label, body in (("text", message.text), ("body", message.body)):
        if body is not None:
            lines += [f"  {label}:", textwrap.indent(body.rstrip("\n"), "    ")]
    if html and message.html is not None:
        lines += ["  html:", textwrap.indent(message.html.rstrip("\n"), "    ")]
    if message.payload is not None:
        payload = json.dumps(message.payload, indent=2, ensure_ascii=False)
        lines += ["  payload:", textwrap.indent(payload, "    ")]
    return lines
