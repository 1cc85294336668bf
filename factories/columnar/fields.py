"""Field encoders shared by the columnar entities: each appends one column to a ``Packer``
in PostgreSQL's binary form (a COPY field; with its oid, a ``record_send`` field)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from factories.columnar.pack import Bytes2D, Ints, Packer, RecordPacker, big_endian
from factories.record import RECORDS

PG_EPOCH_DAYS = 10_957  # 2000-01-01 in days since 1970-01-01
PG_EPOCH_US = PG_EPOCH_DAYS * 86_400_000_000
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
COPY_TRAILER = b"\xff\xff"


def len4(n: int) -> bytes:
    return n.to_bytes(4, "big")


def copy_text(s: str) -> bytes:
    enc = s.encode()
    return len4(len(enc)) + enc


def copy_numeric(p: Packer, units: Ints, scale: int = 2) -> None:
    """PostgreSQL's binary numeric of ``units / 10**scale``, length-prefixed.

    As psycopg dumps a ``Decimal`` of exponent ``-scale``: dscale ``scale``, base-10000
    digits of the magnitude without leading or trailing zero groups, sign 0x4000 below 0.
    """
    base = 10**scale
    negative = units < 0
    units = np.abs(units)
    whole = units // base
    if units.size and int(whole.max()) >= 10**16:
        raise ValueError("columnar numeric takes amounts in (-10**16, 10**16)")
    # Base-10000 digits, most significant first: four of the whole part, then the fraction
    # padded on the right to whole groups of four decimal places.
    nfrac = -(-scale // 4)
    frac = units % base * 10 ** (4 * nfrac - scale)
    powers = [whole // 10**k % 10_000 for k in (12, 8, 4, 0)]
    fractions = [frac // 10 ** (4 * (nfrac - 1 - j)) % 10_000 for j in range(nfrac)]
    groups = np.stack([*powers, *fractions], axis=1)
    ngroups = groups.shape[1]
    nonzero = groups != 0
    anyone = nonzero.any(axis=1)
    first = np.where(anyone, nonzero.argmax(axis=1), 0)
    last = np.where(anyone, ngroups - 1 - nonzero[:, ::-1].argmax(axis=1), -1)
    ndigits = last - first + 1
    weight = np.where(anyone, 3 - first, 0)
    sign = np.where(negative, 0x4000, 0)
    head = np.stack([ndigits, weight, sign, np.full_like(ndigits, scale)], axis=1)
    p.full(big_endian(8 + 2 * ndigits, ">i4"))
    p.full(big_endian(head.reshape(-1), ">i2").reshape(-1, 8))
    col = np.arange(ngroups)[None, :]
    keep = (col >= first[:, None]) & (col <= last[:, None])
    p.masked(
        big_endian(groups.reshape(-1), ">i2").reshape(-1, 2 * ngroups),
        np.repeat(keep, 2, axis=1),
        2 * ndigits,
    )


class Fields(RecordPacker):
    """One entity's rows, column by column in table order: each method packs the next
    column (its oid in the canonical form, its length and bytes in both forms)."""

    def __init__(self, n: int, entity: str) -> None:
        super().__init__(n, [c.oid for c in RECORDS[entity]])

    def scope(self, tenant: bytes, ids: Bytes2D, mode: str) -> None:
        """The three columns every domain row starts with: tenant_id, id, mode."""
        self.column()
        self.const(len4(16) + tenant)
        self.uuids(ids)
        self.text(mode)

    def uuids(self, mat: Bytes2D) -> None:
        self.column()
        self.const(len4(16))
        self.full(mat)

    def optional_uuids(self, mat: Bytes2D, present: npt.NDArray[np.bool_]) -> None:
        """Each row's id where ``present``, NULL (length -1) where not."""
        self.column()
        out = np.zeros((self.n, 20), dtype=np.uint8)
        out[:, :4] = np.frombuffer(len4(16), dtype=np.uint8)
        out[:, 4:] = mat
        out[~present, :4] = 0xFF
        lengths = np.where(present, 20, 4).astype(np.int64)
        self.masked(out, np.arange(20)[None, :] < lengths[:, None], lengths)

    def chars(self, mat: Bytes2D) -> None:
        """Text of one width, a byte matrix (account numbers, branches)."""
        self.column()
        self.const(len4(mat.shape[1]))
        self.full(mat)

    def text(self, value: str) -> None:
        """The same text in every row."""
        self.column()
        self.const(copy_text(value))

    def choice(self, codes: Ints, entries: tuple[Bytes2D, Ints]) -> None:
        """Row r's text is ``entries[codes[r]]`` (a ``table`` of ``copy_text`` values)."""
        self.column()
        self.pick(codes, entries)

    def numeric(self, units: Ints, scale: int = 2) -> None:
        self.column()
        copy_numeric(self, units, scale)

    def int4(self, values: Ints | int) -> None:
        self.column()
        if isinstance(values, int):
            self.const(len4(4) + values.to_bytes(4, "big", signed=True))
        else:
            self.const(len4(4))
            self.full(big_endian(values, ">i4"))

    def date(self, days: Ints) -> None:
        """Dates given as days since 1970-01-01."""
        self.column()
        self.const(len4(4))
        self.full(big_endian(days - PG_EPOCH_DAYS, ">i4"))

    def timestamptz(self, micros: Ints) -> None:
        """Instants given as microseconds since 1970-01-01T00:00Z."""
        self.column()
        self.const(len4(8))
        self.full(big_endian(micros - PG_EPOCH_US, ">i8"))

    def finish(self) -> tuple[bytes, Ints, bytes]:
        """(canonical rows back to back, their lengths, the binary COPY stream)."""
        canonical, lengths, body = self.pack_both()
        return canonical, lengths, COPY_HEADER + body + COPY_TRAILER
