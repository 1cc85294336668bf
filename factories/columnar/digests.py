"""``factories.digest``'s row digests, batch digest and fold over packed canonical rows.

The canonical bytes are ``record.record_send``'s (PostgreSQL's own, so the read-back fold
digests a stored row in one built-in call). The per-row SHA-256 stays one C call a row,
over slices of one buffer (~0.5 us a row): the read-back must recompute it with a
PostgreSQL built-in, and numpy has no hash. The fold is summed as 32-bit words in numpy.
"""

from __future__ import annotations

import hashlib

import numpy as np

from factories.columnar.pack import Ints

_MOD = 1 << 256


def row_digests(canonical: bytes, lengths: Ints) -> bytes:
    """The rows' SHA-256 digests back to back (32 bytes each, index order)."""
    ends = np.cumsum(lengths).tolist()
    view = memoryview(canonical)
    sha = hashlib.sha256
    starts = [0, *ends[:-1]]
    return b"".join([sha(view[a:b]).digest() for a, b in zip(starts, ends, strict=True)])


def batch_digest(digests: bytes) -> str:
    """``digest.batch_digest`` of the same row digests."""
    return hashlib.sha256(digests).hexdigest()


def fold(digests: bytes) -> int:
    """``digest.fold``: the digests as 256-bit big-endian integers, summed mod 2**256.

    Summed as eight columns of 32-bit words (exact in 64 bits below 2**32 rows), then
    the columns are weighed and reduced in Python: the same integer.
    """
    if not digests:
        return 0
    words = np.frombuffer(digests, dtype=">u4").reshape(-1, 8).astype(np.uint64)
    sums = words.sum(axis=0, dtype=np.uint64).tolist()
    return sum(int(s) << (32 * (7 - k)) for k, s in enumerate(sums)) % _MOD
