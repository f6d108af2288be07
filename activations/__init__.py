"""Activations: syncing audiences and journey sends to destinations.

Crash points (`waymark.core.crash.point`) this package calls between its durable steps:
`sync.before_send` (operations marked in flight, nothing sent), `sync.after_send` (destination
answered, nothing recorded) and `sync.after_record` in `runner.py`; `send.before_send` and
`send.after_send` in `sends.py`; `erasure.after_removals` (an erasure run recorded, not yet
audited) in `erasure_run.py`; and inside the destination clients `postgres.before_commit`,
`files.after_delta`, `webhook.after_request`, `smtp.after_data`, `meta.after_request`,
`google_ads.after_request`, `hubspot.after_request`, `salesforce.after_request`,
`sendgrid.after_request` and `twilio.after_request`.
"""
