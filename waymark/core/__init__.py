"""The ground floor: what every part of Waymark shares and nothing in it depends on.

Config models and value types, located errors, YAML with positions, channels and purposes,
destinations, cron, instants, crash points, identifier normalisation, header text, the erasure
coverage rule, home paths and `.env` loading. Imports nothing from the rest of Waymark.
"""
