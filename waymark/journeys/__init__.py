"""Customer journeys: typed definitions in `journeys/*.yml`, validation, templates, preview.

`waymark.journeys.spec` is the API the journey engine builds on; `docs/journeys.md` is the file
reference.
"""
