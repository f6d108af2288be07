"""Public datasets converted into Waymark source contracts."""
