"""Channels messages travel on and the consent purposes they may claim.

A journey's send step, a destination and a sync each name a channel or a purpose; the pairs
allowed are decided here once, so a journey and a sync to the same destination agree.
"""

from __future__ import annotations

from typing import Literal

Channel = Literal["email", "sms", "ads", "webhook", "crm"]
Purpose = Literal["email_marketing", "sms_marketing", "ads_personalisation", "transactional"]

# The consent purposes a send may claim on each channel; transactional messages (receipts,
# service recovery, removing someone from an ad audience) are the only ones that may go without
# marketing consent.
PURPOSES_BY_CHANNEL: dict[str, tuple[str, ...]] = {
    "email": ("email_marketing", "transactional"),
    "sms": ("sms_marketing", "transactional"),
    "ads": ("ads_personalisation", "transactional"),
    "webhook": ("email_marketing", "sms_marketing", "ads_personalisation", "transactional"),
    "crm": ("email_marketing", "sms_marketing", "ads_personalisation", "transactional"),
}
