"""Deterministic id minting: random-looking ids from a seeded RNG, unique ids from bijections.

Ids that must never collide by accident (user ids, email suffixes, phone subscriber numbers)
come from a bijection of the person index, so uniqueness holds for any population size up to
the documented limits; everything else uses enough random bits that a collision is negligible.
"""

from __future__ import annotations

import random

MAX_PEOPLE = 8_000_000
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CLICK_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_UUID_CLEAR = ~((0xF << 76) | (0xC << 60))  # version nibble and variant bits
_UUID_SET = (0x4 << 76) | (0x8 << 60)  # version 4, RFC 4122 variant
_MASK40 = (1 << 40) - 1


def person_rng(seed: int, index: int) -> random.Random:
    """The RNG that drives everything about one person: independent of worker layout."""
    return random.Random((seed << 42) | (index << 1))


def pair_rng(seed: int, pair: int) -> random.Random:
    """The RNG shared by persons ``2*pair`` and ``2*pair+1`` (households, shared devices)."""
    return random.Random((seed << 42) | (pair << 1) | 1)


def uuid4(rng: random.Random) -> str:
    """A version-4 UUID string drawn from ``rng``."""
    h = f"{(rng.getrandbits(128) & _UUID_CLEAR) | _UUID_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def hex_id(rng: random.Random, prefix: str, digits: int = 16) -> str:
    """``prefix`` followed by ``digits`` random hex digits."""
    return f"{prefix}{rng.getrandbits(4 * digits):0{digits}x}"


def crm_contact_id(rng: random.Random) -> str:
    """A Salesforce-style 15-character contact id: ``003`` and 12 alphanumerics."""
    return "003" + "".join(_BASE62[rng.getrandbits(6) % 62] for _ in range(12))


def click_id(rng: random.Random, platform: str) -> str:
    """A gclid / fbclid / ttclid look-alike for an ad click."""
    body = "".join(_CLICK_ALPHABET[rng.getrandbits(6)] for _ in range(40))
    if platform == "google":
        return "Cj0KCQjw" + body
    if platform == "meta":
        return "IwAR" + body
    return "E.C.P." + body


def user_id(seed: int, index: int) -> str:
    """The shop account id (Segment ``userId``): ``u_`` and 10 hex digits, unique per person.

    A 40-bit bijection (affine map, xorshift, odd multiply) of the index, so no two people
    ever share an account id while the ids still look random.
    """
    x = (index * 0x9E3779B1 + seed * 0x85EBCA77 + 0x165667B1) & _MASK40
    x ^= x >> 19
    x = (x * 0xC2B2AE3D27D4EB4F) & _MASK40
    x ^= x >> 13
    return f"u_{x:010x}"


def unique_number(seed: int, index: int, modulus: int, salt: int = 0) -> int:
    """A bijection of ``index`` onto ``[0, modulus)`` for ``index < modulus``.

    ``modulus`` must be coprime with 7919 (true for powers of ten and 8,000,000).
    """
    return (index * 7919 + seed * 104729 + salt * 1299709) % modulus


def suffix_modulus(customers: int) -> int:
    """Smallest power of ten (at least 10,000) above the population: email number suffixes."""
    modulus = 10_000
    while modulus < customers:
        modulus *= 10
    return modulus
