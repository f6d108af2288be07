"""The probes `benchmarks/trust_probes.py` runs: Waymark driven only through its command line
and files, so they stay valid whatever the layout of its Python modules."""
