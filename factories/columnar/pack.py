"""Ragged byte rows built column by column: one numpy pass per field, no loop per row.

A ``Packer`` collects, field after field, an ``(n, width)`` byte matrix and a mask of
the bytes each row really has (a text of 5 or 6 bytes, a number of 1..20 digits).
``pack`` lays the fields side by side and keeps the masked bytes in row-major order:
row 0's fields, then row 1's, ...; exactly the concatenation a per-row encoder makes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

U8 = np.uint8
Bytes2D = npt.NDArray[np.uint8]
Ints = npt.NDArray[np.int64]


def digit_matrix(values: Ints) -> tuple[Bytes2D, npt.NDArray[np.bool_], Ints]:
    """ASCII decimal digits of non-negative integers, right-aligned: (matrix, mask, lengths)."""
    if values.size and int(values.min()) < 0:
        raise ValueError("digit_matrix takes non-negative integers")
    top = int(values.max()) if values.size else 0
    width = max(1, len(str(top)))
    digits = np.empty((values.size, width), dtype=np.int64)
    rest = values.astype(np.int64, copy=True)
    for col in range(width - 1, -1, -1):
        rest, digits[:, col] = np.divmod(rest, 10)
    nonzero = digits != 0
    first = np.where(nonzero.any(axis=1), nonzero.argmax(axis=1), width - 1)
    mask = np.arange(width)[None, :] >= first[:, None]
    return (digits + 48).astype(U8), mask, (width - first).astype(np.int64)


def table(entries: Sequence[bytes]) -> tuple[Bytes2D, Ints]:
    """Byte strings as a zero-padded matrix + their lengths (for ``Packer.pick``)."""
    width = max((len(e) for e in entries), default=1) or 1
    mat = np.zeros((len(entries), width), dtype=U8)
    for k, entry in enumerate(entries):
        mat[k, : len(entry)] = np.frombuffer(entry, dtype=U8)
    return mat, np.array([len(e) for e in entries], dtype=np.int64)


def big_endian(values: npt.NDArray[np.integer], dtype: str) -> Bytes2D:
    """Each integer as its big-endian bytes (``dtype`` e.g. '>i4', '>i8')."""
    wide = np.ascontiguousarray(values.astype(dtype))
    return wide.view(U8).reshape(values.size, wide.itemsize)


class Packer:
    """Fields of ``n`` rows, appended left to right, packed into one buffer."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._mats: list[Bytes2D] = []
        self._masks: list[npt.NDArray[np.bool_]] = []
        self.lengths = np.zeros(n, dtype=np.int64)

    def const(self, data: bytes) -> None:
        """The same bytes in every row."""
        self.full(self._broadcast(data))

    def full(self, mat: Bytes2D) -> None:
        """Every byte of an ``(n, width)`` matrix."""
        self._mats.append(mat)
        self._masks.append(np.ones(mat.shape, dtype=np.bool_))
        self.lengths += mat.shape[1]

    def masked(self, mat: Bytes2D, mask: npt.NDArray[np.bool_], lengths: Ints) -> None:
        self._mats.append(mat)
        self._masks.append(mask)
        self.lengths += lengths

    def _broadcast(self, data: bytes) -> Bytes2D:
        return np.broadcast_to(np.frombuffer(data, dtype=U8), (self.n, len(data)))

    def pick(self, codes: Ints, entries: tuple[Bytes2D, Ints]) -> None:
        """Row r gets ``entries[codes[r]]`` (a ``table``)."""
        mat, lens = entries
        picked = lens[codes]
        self.masked(mat[codes], np.arange(mat.shape[1])[None, :] < picked[:, None], picked)

    def digits(self, values: Ints) -> None:
        self.masked(*digit_matrix(values))

    def pack(self) -> tuple[bytes, Ints]:
        """(the rows' bytes back to back, each row's length)."""
        if not self._mats:
            return b"", self.lengths
        mats = np.hstack(self._mats)
        masks = np.hstack(self._masks)
        return mats[masks].tobytes(), self.lengths


class RecordPacker(Packer):
    """Rows in their two binary forms at once: the tuple of a binary COPY stream
    (int16 field count, then each field's int32 length and bytes) and the row's
    canonical bytes, ``record_send``'s (int32 field count, then each field's type oid,
    length and bytes: ``factories.record``). Fields are appended once, in the COPY form,
    each after ``column()``, which adds its oid to the canonical form only.
    """

    def __init__(self, n: int, oids: Sequence[int]) -> None:
        super().__init__(n)
        self._oids = tuple(oids)
        self._next = 0
        self._only_in: dict[int, bool] = {}
        """Segment index -> True if only in the canonical form, False if only in COPY's."""
        self._only(len(self._oids).to_bytes(2, "big"), canonical=False)
        self._only(len(self._oids).to_bytes(4, "big"), canonical=True)

    def column(self) -> None:
        """The next column starts here (its oid, in the canonical form only)."""
        if self._next >= len(self._oids):
            raise ValueError(f"a record of {len(self._oids)} columns has no more")
        self._only(self._oids[self._next].to_bytes(4, "big"), canonical=True)
        self._next += 1

    def _only(self, data: bytes, *, canonical: bool) -> None:
        self._only_in[len(self._mats)] = canonical
        mat = self._broadcast(data)
        self._mats.append(mat)
        self._masks.append(np.ones(mat.shape, dtype=np.bool_))
        if canonical:
            self.lengths += len(data)

    def _outside(self, canonical: bool) -> npt.NDArray[np.bool_]:
        """Per byte column of the packed matrix: is it in a segment only the other form has."""
        return np.concatenate(
            [
                np.full(m.shape[1], self._only_in.get(k, canonical) != canonical)
                for k, m in enumerate(self._mats)
            ]
        )

    def pack_both(self) -> tuple[bytes, Ints, bytes]:
        """(the canonical rows back to back, each one's length, the COPY tuples)."""
        if self._next != len(self._oids):
            raise ValueError(f"{self._next} of the record's {len(self._oids)} columns were packed")
        mats = np.hstack(self._mats)
        masks = np.hstack(self._masks)
        canonical = mats[masks & ~self._outside(True)[None, :]].tobytes()
        copy = mats[masks & ~self._outside(False)[None, :]].tobytes()
        return canonical, self.lengths, copy
