"""Folder names and CSV column orders of the generated sources.

These mirror ``dbt_project/models/staging/*/__sources.yml`` exactly (a test compares them), so
the generator and staging can never drift apart silently.
"""

from __future__ import annotations

EVENTS = "events"

CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "crm_contacts": (
        "contact_id",
        "email",
        "phone",
        "first_name",
        "last_name",
        "company",
        "owner",
        "country",
        "created_at",
        "updated_at",
    ),
    "orders": (
        "order_id",
        "account_id",
        "email",
        "phone",
        "status",
        "currency",
        "subtotal",
        "discount",
        "shipping",
        "tax",
        "total",
        "shipping_country",
        "created_at",
        "updated_at",
        "delivered_at",
    ),
    "order_items": (
        "order_id",
        "line_number",
        "product_id",
        "product_name",
        "category",
        "quantity",
        "unit_price",
    ),
    "support_tickets": (
        "ticket_id",
        "channel",
        "email",
        "phone",
        "reason",
        "status",
        "csat_score",
        "sentiment",
        "created_at",
        "updated_at",
        "solved_at",
    ),
    "support_calls": (
        "call_id",
        "ticket_id",
        "phone",
        "direction",
        "reason",
        "handle_time_seconds",
        "first_contact_resolution",
        "sentiment",
        "started_at",
    ),
    "messaging_engagement": (
        "engagement_id",
        "channel",
        "recipient",
        "event_type",
        "bounce_type",
        "campaign",
        "url",
        "occurred_at",
    ),
    "consent": (
        "consent_id",
        "identifier_type",
        "identifier_value",
        "purpose",
        "status",
        "source",
        "recorded_at",
    ),
    "ad_clicks": (
        "click_id",
        "platform",
        "campaign_id",
        "campaign_name",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_content",
        "utm_term",
        "landing_anonymous_id",
        "landing_url",
        "clicked_at",
    ),
}

SOURCES: tuple[str, ...] = (EVENTS, *CSV_COLUMNS)

TRUTH_DIR = "_truth"
IDENTITY_COLUMNS: tuple[str, ...] = ("identifier_type", "identifier_value", "person_id")
PEOPLE_COLUMNS: tuple[str, ...] = (
    "person_id",
    "persona",
    "lifecycle",
    "country",
    "timezone",
    "locale",
    "currency",
    "first_name",
    "last_name",
    "user_id",
    "email",
    "work_email",
    "phone",
    "customer_since",
    "devices",
    "in_crm",
    "household_id",
    "shared_device",
    "unlinked_device",
    "repeat_caller",
    "orders",
    "revenue",
    "first_order_at",
    "last_order_at",
)
