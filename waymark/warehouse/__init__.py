"""Running dbt and reading its products: the build, its summary, the manifest, read-only queries.

Imports only `waymark.core`.
"""
