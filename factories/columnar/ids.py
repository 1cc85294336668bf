"""Row ids (``IdMaker``'s uuid5 values) as byte matrices and ``Feistel`` numbers, in bulk."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable

import numpy as np

from factories.columnar.pack import U8, Bytes2D, Ints
from factories.keys import FEISTEL_ROUNDS

PARENT_MEMO_LIMIT = 1 << 21
"""Parent ids kept per process as arrays (16 bytes each: ~32 MB at most)."""
_parents: dict[tuple[bytes, int], Bytes2D] = {}


def uuid5_matrix(namespace: uuid.UUID, indices: Iterable[int]) -> Bytes2D:
    """``uuid5(namespace, str(i))``'s 16 bytes for each index (``IdMaker``'s values)."""
    prefix = hashlib.sha1(namespace.bytes, usedforsecurity=False)

    def one(i: int) -> bytes:
        h = prefix.copy()
        h.update(b"%d" % i)
        return h.digest()[:16]

    mat = np.frombuffer(b"".join([one(i) for i in indices]), dtype=U8).reshape(-1, 16).copy()
    mat[:, 6] = (mat[:, 6] & 0x0F) | 0x50  # version 5
    mat[:, 8] = (mat[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    return mat


def parent_ids(namespace: uuid.UUID, count: int) -> Bytes2D | None:
    """All ``count`` ids of a parent entity, built once per process (None if too many).

    Ids carry no salt, so keeping them is safe; a transaction batch references ~all
    of its accounts' ids, so one build serves every later batch of the process.
    """
    key = (namespace.bytes, count)
    hit = _parents.get(key)
    if hit is None:
        if count > PARENT_MEMO_LIMIT:
            return None
        if sum(m.shape[0] for m in _parents.values()) + count > PARENT_MEMO_LIMIT:
            _parents.clear()
        hit = _parents[key] = uuid5_matrix(namespace, range(count))
    return hit


def parent_rows(
    namespace: uuid.UUID, count: int, indices: Ints, referrers: int | None = None
) -> Bytes2D:
    """Ids of parents ``indices`` (each < ``count``).

    ``referrers``: the rows of the whole dataset that reference this parent entity. When
    they are fewer than its ``count`` parents, building every parent id would cost more
    than it saves (contract -> customer, credit_limit): the batch's ids are hashed alone.
    """
    if referrers is not None and referrers < count:
        return uuid5_matrix(namespace, indices.tolist())
    every = parent_ids(namespace, count)
    if every is None:
        return uuid5_matrix(namespace, indices.tolist())
    picked: Bytes2D = every[indices]
    return picked


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
