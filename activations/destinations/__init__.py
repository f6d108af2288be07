"""One package per destination kind, each with config, client, mapping, capabilities, README."""
