"""Format-preserving encryption of row indices: business keys unique by construction.

``DigitPermutation`` is an FF1-shaped Feistel network over ``n`` decimal digits (NIST
SP 800-38G's split: ``u = n // 2`` digits on the left, ``v = n - u`` on the right,
rounds alternate between the two moduli), keyed BLAKE2b as the round function. Each
round is invertible whatever the round function is, so the whole is a bijection of
``[0, 10**n)``: distinct inputs give distinct outputs, at any volume, with no shared
state. A subset of the domain (e.g. CPF bases that are not one repeated digit) is
served by cycle-walking: re-encrypt until the value lands in the subset, which is
again a bijection of the subset.

A key's plaintext is ``slot * SLOT + index``: the mode's slot (baseline 1, load 2,
dr 3) keeps the three datasets of one tenant apart under one tenant-wide key, so
``UNIQUE (tenant_id, key)`` holds across datasets too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping

SLOT = 10**7
"""Indices per mode slot: 200x the largest hard cap of a keyed entity (customer 50 k)."""


class DigitPermutation:
    """A keyed bijection of ``[0, 10**digits)`` restricted by cycle-walking to ``valid``."""

    __slots__ = ("_keyed", "_m", "_rounds", "_v", "_valid", "digits", "domain")

    def __init__(
        self,
        key: bytes,
        digits: int,
        *,
        rounds: int = 10,
        valid: Callable[[int], bool] | None = None,
    ) -> None:
        if digits < 2 or rounds % 2:
            raise ValueError("a digit permutation needs >= 2 digits and an even round count")
        keyed = hashlib.blake2b(key=key, digest_size=8, person=b"seedbank-fpe")
        self._keyed: list[
            hashlib.blake2b
        ] = []  # one state per round, its round number absorbed (copied per call)
        for rnd in range(rounds):
            state = keyed.copy()
            state.update(bytes((rnd,)))
            self._keyed.append(state)
        u = digits // 2
        self._v: int = 10 ** (digits - u)
        # Round i adds F(i, B) modulo 10**u (even i) or 10**v (odd i), as FF1 does.
        self._m = tuple(10**u if i % 2 == 0 else self._v for i in range(rounds))
        self._rounds = rounds
        self._valid = valid
        self.digits = digits
        self.domain = 10**digits

    def round_value(self, rnd: int, half: int) -> int:
        """F(rnd, half): the keyed round function (public so a test can tabulate it)."""
        f = self._keyed[rnd].copy()
        f.update(half.to_bytes(8, "little"))
        return int.from_bytes(f.digest(), "little")

    def _encrypt_once(self, x: int) -> int:
        a, b = divmod(x, self._v)
        for state, m in zip(self._keyed, self._m, strict=True):  # round_value, inlined
            f = state.copy()
            f.update(b.to_bytes(8, "little"))
            a, b = b, (a + int.from_bytes(f.digest(), "little")) % m
        return a * self._v + b

    def _decrypt_once(self, y: int) -> int:
        a, b = divmod(y, self._v)
        for state, m in zip(reversed(self._keyed), reversed(self._m), strict=True):
            f = state.copy()
            f.update(a.to_bytes(8, "little"))
            a, b = (b - int.from_bytes(f.digest(), "little")) % m, a
        return a * self._v + b

    def encrypt(self, x: int) -> int:
        if not 0 <= x < self.domain or (self._valid is not None and not self._valid(x)):
            raise ValueError(f"{x} is outside the permutation's domain")
        y = self._encrypt_once(x)
        while self._valid is not None and not self._valid(y):  # cycle-walk
            y = self._encrypt_once(y)
        return y

    def decrypt(self, y: int) -> int:
        """The inverse of ``encrypt``; ``y`` must be in the domain (and valid)."""
        x = self._decrypt_once(y)
        while self._valid is not None and not self._valid(x):
            x = self._decrypt_once(x)
        return x


def plaintext(slot: int, index: int) -> int:
    """The permutation input of row ``index`` of the dataset in mode slot ``slot``."""
    if not 0 <= index < SLOT:
        raise ValueError(f"row index {index} is outside a mode slot (< {SLOT})")
    return slot * SLOT + index


DEFAULT_BOUND = 10**6
"""A slot's count when the checker is told no counts (20x the largest keyed hard cap)."""


def index_below(x: int, bounds: Mapping[int, int] | None) -> bool:
    """Whether plaintext ``x`` is row ``i < count`` of a mode slot.

    ``bounds`` maps slot -> the entity's count in that dataset; a slot it does not name
    holds no rows. ``None`` bounds every slot by ``DEFAULT_BOUND``.
    """
    slot, index = divmod(x, SLOT)
    if not 1 <= slot <= 3:
        return False
    return index < (DEFAULT_BOUND if bounds is None else bounds.get(slot, 0))
