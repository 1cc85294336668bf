"""``Feistel`` numbers in bulk."""

from __future__ import annotations

import hashlib

import numpy as np

from factories.columnar.pack import U8, Ints
from factories.keys import FEISTEL_ROUNDS


def feistel_column(key: bytes, half: int, values: Ints, rounds: int = FEISTEL_ROUNDS) -> Ints:
    """``Feistel(key, half, rounds)`` of each value: the keyed round function stays one
    hash call per row and round (over 9-byte messages cut from one buffer), the
    additions mod ``10**half`` are numpy passes."""
    m = np.uint64(10**half)
    if values.size and (int(values.min()) < 0 or int(values.max()) >= 10 ** (2 * half)):
        raise ValueError("a value is outside the permutation domain")
    copy = hashlib.blake2b(key=key, digest_size=8).copy

    def f(message: bytes) -> bytes:
        h = copy()
        h.update(message)
        return h.digest()

    left, right = np.divmod(values.astype(np.uint64), m)
    messages = np.empty((values.size, 9), dtype=U8)  # right as 8 bytes little-endian, round
    for rnd in range(rounds):
        messages[:, :8] = right.astype("<u8").view(U8).reshape(-1, 8)
        messages[:, 8] = rnd
        raw = messages.tobytes()
        mixed = b"".join([f(raw[o : o + 9]) for o in range(0, len(raw), 9)])
        left, right = right, (left + np.frombuffer(mixed, dtype="<u8") % m) % m
    out: Ints = (left * m + right).astype(np.int64)
    return out
