"""``keys.Feistel``, a column of values at a time."""

from __future__ import annotations

import numpy as np

from factories.columnar.pack import Ints
from factories.keys import FEISTEL_ROUNDS, MIX_1, MIX_2, round_keys


def feistel_column(key: bytes, half: int, values: Ints, rounds: int = FEISTEL_ROUNDS) -> Ints:
    """``Feistel(key, half, rounds)`` of each value: every round is a few numpy passes
    (``fmix64`` in wrapping 64-bit arithmetic, then the addition mod ``10**half``)."""
    m = np.uint64(10**half)
    if values.size and (int(values.min()) < 0 or int(values.max()) >= 10 ** (2 * half)):
        raise ValueError("a value is outside the permutation domain")
    shift, mix_1, mix_2 = np.uint64(33), np.uint64(MIX_1), np.uint64(MIX_2)
    left, right = np.divmod(values.astype(np.uint64), m)
    for k in round_keys(key, rounds):
        x = right ^ np.uint64(k)
        x ^= x >> shift
        x *= mix_1
        x ^= x >> shift
        x *= mix_2
        x ^= x >> shift
        left, right = right, (left + x % m) % m
    out: Ints = (left * m + right).astype(np.int64)
    return out
