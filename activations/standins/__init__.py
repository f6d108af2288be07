"""Local stand-ins for vendor APIs: loopback HTTP servers that speak each vendor's published
contract, validate every request against it, keep what a real account would hold, and fail on
demand (401, 400 per record, 429 with Retry-After, 5xx, timeouts).

They back the golden-case tests (warehouse rows in, exact requests out) and `make demo`, where
every destination points at one of them instead of the internet. One module per vendor; the
shared HTTP plumbing is in `base.py`.
"""
