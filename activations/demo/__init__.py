"""`make demo`'s activations: every sync run against local stand-ins of its destination.

`standins.py` starts one local server per destination the syncs and journey sends use and says
how to reach it (environment variables for the demo process, connector settings pointing at
loopback); `run.py` runs the syncs and sends through the same runner as production and prints
what happened to each.
"""
