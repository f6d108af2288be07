"""Activations: syncing audiences and journey sends to destinations."""
