"""Field encoders shared by the columnar entities: each appends one column to a ``Packer``
in PostgreSQL's binary form (a COPY field; with its oid, a ``record_send`` field)."""

from __future__ import annotations

import numpy as np

from factories.columnar.pack import Ints, Packer, big_endian

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
