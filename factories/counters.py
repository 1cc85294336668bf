"""Counter-based keyed randomness: numpy's Philox4x64-10, and the row ids built on it.

Row ``t`` of a stream keyed by 16 bytes is the block numpy's ``Philox(key, counter=t)``
yields first: four 64-bit words, read as 32 little-endian bytes. It is a pure function
of (key, t), so any slice ``[start, stop)`` is one vectorised call (~25 ns a row) and
equals the concatenation of its sub-slices: batching, order and worker count never
change a value. numpy keeps bit generators' streams stable across releases (NEP 19).

Philox is a statistical PRF, not a cryptographic one: it draws amounts, dates and
ids, never anything that carries a PII proof (the masker keeps its keyed HMAC).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
from numpy.random import Philox

ROW_BYTES = 32
"""Bytes of one row's draw: eight independent 32-bit lanes."""
MAX_INDEX = 1 << 62
"""Rows of a stream are indexed below this (any manifest cap is far below it)."""
_BLOCK = 256
"""Rows a per-row stream computes at once (one Philox call costs ~15 us to set up)."""
_BLOCKS_KEPT = 64
"""Blocks a per-row stream keeps (512 KB): its memory stays flat over any volume."""
_RUN_GAP = 256
"""Indices closer than this are drawn as one contiguous run (cheaper than two calls)."""
_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_V8 = (8 << 76) | (0x8000 << 48)
_UUID_SAFETY = uuid.SafeUUID.unknown


def philox_key(key: bytes) -> list[int]:
    """Philox's 128-bit key from the first 16 bytes of ``key`` (two little-endian words)."""
    if len(key) < 16:
        raise ValueError("a Philox key needs 16 bytes")
    return [int.from_bytes(key[0:8], "little"), int.from_bytes(key[8:16], "little")]


def _check(start: int, stop: int) -> None:
    if not 0 <= start <= stop <= MAX_INDEX:
        raise ValueError(f"rows [{start}, {stop}) are outside [0, 2**62)")


def words(key: bytes, start: int, stop: int) -> npt.NDArray[np.uint64]:
    """Rows ``[start, stop)``'s draws as an ``(n, 4)`` array of 64-bit words."""
    _check(start, stop)
    if start == stop:
        return np.empty((0, 4), dtype=np.uint64)
    raw = Philox(key=philox_key(key), counter=[start, 0, 0, 0]).random_raw(4 * (stop - start))
    return raw.reshape(-1, 4)


def row_bytes(key: bytes, start: int, stop: int) -> bytes:
    """Rows ``[start, stop)``'s draws back to back, 32 little-endian bytes each."""
    return words(key, start, stop).astype("<u8").tobytes()


def lanes(key: bytes, start: int, stop: int) -> npt.NDArray[np.int64]:
    """Rows ``[start, stop)``'s eight 32-bit lanes, as an ``(n, 8)`` int64 array."""
    return _lanes(words(key, start, stop))


def words_at(key: bytes, indices: Iterable[int] | npt.NDArray[np.int64]) -> npt.NDArray[np.uint64]:
    """``words`` of any rows, in the order given (e.g. the parents of a batch).

    Sorted indices are cut into runs wherever two lie ``_RUN_GAP`` or more apart; each
    run is one call, so scattered parents cost a call per cluster, not per row.
    """
    at = _indices(indices)
    if at.size == 0:
        return np.empty((0, 4), dtype=np.uint64)
    lo, hi = int(at.min()), int(at.max()) + 1
    _check(lo, hi)
    if hi - lo == at.size and bool((np.diff(at) == 1).all()):
        return words(key, lo, hi)  # already one run, in order
    wanted = np.sort(at)  # np.unique costs ~20x a sort here (numpy 2.4, measured)
    wanted = wanted[np.concatenate(([True], wanted[1:] != wanted[:-1]))]
    cuts = np.flatnonzero(np.diff(wanted) >= _RUN_GAP) + 1
    out = np.empty((wanted.size, 4), dtype=np.uint64)
    for a, b in zip([0, *cuts.tolist()], [*cuts.tolist(), wanted.size], strict=True):
        first, last = int(wanted[a]), int(wanted[b - 1])
        out[a:b] = words(key, first, last + 1)[wanted[a:b] - first]
    picked: npt.NDArray[np.uint64] = out[np.searchsorted(wanted, at)]
    return picked


def lanes_at(key: bytes, indices: Iterable[int] | npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``lanes`` of any rows, in the order given."""
    return _lanes(words_at(key, indices))


def id_matrix(
    namespace: uuid.UUID, indices: Iterable[int] | npt.NDArray[np.int64]
) -> npt.NDArray[np.uint8]:
    """Ids of rows ``indices`` as an ``(n, 16)`` byte matrix: ``RowStream.uuid``'s values.

    An id is the first 16 bytes of row i's draw keyed by the entity's namespace, with
    the version (8, RFC 9562's custom layout) and variant bits set: 122 random bits,
    the odds of a collision those of uuid5, at one vectorised call per batch.
    """
    raw = words_at(namespace.bytes, indices)
    mat = raw[:, :2].astype("<u8").view(np.uint8).reshape(-1, 16).copy()
    mat[:, 6] = (mat[:, 6] & 0x0F) | 0x80  # version 8
    mat[:, 8] = (mat[:, 8] & 0x3F) | 0x80  # RFC 9562 variant
    return mat


def _indices(indices: Iterable[int] | npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    if isinstance(indices, np.ndarray):
        return indices.astype(np.int64, copy=False).reshape(-1)
    return np.fromiter(indices, dtype=np.int64)


def _lanes(raw: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    return raw.astype("<u8").view("<u4").reshape(-1, 8).astype(np.int64)


class RowStream:
    """One row's draw at a time (the row path), computed a block of rows at once."""

    __slots__ = ("_blocks", "_key")

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._blocks: dict[int, bytes] = {}

    def __call__(self, index: int) -> bytes:
        """Row ``index``'s 32 bytes (those ``row_bytes`` gives)."""
        block, at = divmod(index, _BLOCK)
        data = self._blocks.get(block)
        if data is None:
            if index < 0:
                raise ValueError(f"row {index} is outside [0, 2**62)")
            if len(self._blocks) >= _BLOCKS_KEPT:
                self._blocks.clear()
            start = block * _BLOCK
            data = self._blocks[block] = row_bytes(self._key, start, start + _BLOCK)
        return data[ROW_BYTES * at : ROW_BYTES * at + ROW_BYTES]

    def integer(self, index: int) -> int:
        """Row ``index``'s draw as a 256-bit integer (lane k is bits 32k..32k+31)."""
        return int.from_bytes(self(index), "little")

    def uuid(self, index: int) -> uuid.UUID:
        """Row ``index``'s id (``id_matrix``'s bytes), assembled as ``uuid.UUID`` does."""
        value = (int.from_bytes(self(index)[:16], "big") & _UUID_CLEAR) | _UUID_V8
        made = object.__new__(uuid.UUID)
        object.__setattr__(made, "int", value)
        object.__setattr__(made, "is_safe", _UUID_SAFETY)
        return made
