"""Dagster code location for Waymark: the dbt project as assets, scheduled and observed."""
