"""Field encoders shared by the columnar entities: each appends one column to a ``Packer``
in ``digest.encode_row``'s canonical form or in PostgreSQL's binary COPY form."""

from __future__ import annotations

import numpy as np

from factories.columnar.pack import Ints, Packer, big_endian, digit_matrix, table

UNIX_ORDINAL = 719_163  # date(1970, 1, 1).toordinal()
PG_EPOCH_DAYS = 10_957  # 2000-01-01 in days since 1970-01-01
PG_EPOCH_US = PG_EPOCH_DAYS * 86_400_000_000
UUID_CANON = (17).to_bytes(4, "big") + b"U"
NONE_CANON = (1).to_bytes(4, "big") + b"N"
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
COPY_TRAILER = b"\xff\xff"
_DENOMINATORS = (1, 2, 4, 5, 10, 20, 25, 50, 100)  # 100 // gcd(cents, 100)
_DEN_CODE = np.zeros(101, dtype=np.int64)
_DEN_CODE[list(_DENOMINATORS)] = np.arange(len(_DENOMINATORS))
_DEN_TABLE = table([b"/%d" % d for d in _DENOMINATORS])


def len4(n: int) -> bytes:
    return n.to_bytes(4, "big")


def canon_text(s: str) -> bytes:
    enc = b"S" + s.encode()
    return len4(len(enc)) + enc


def copy_text(s: str) -> bytes:
    enc = s.encode()
    return len4(len(enc)) + enc


def canon_cents(p: Packer, cents: Ints) -> None:
    """Decimal ``cents / 100`` as ``D<p>/<q>``, its reduced fraction (``p`` signed)."""
    negative = cents < 0
    size = np.abs(cents)
    g = np.gcd(size, 100)
    num = digit_matrix(size // g)
    den = _DEN_CODE[100 // g]
    sign = negative.astype(np.int64)
    p.full(big_endian(1 + sign + num[2] + _DEN_TABLE[1][den], ">i4"))
    p.const(b"D")
    p.masked(np.full((cents.size, 1), ord("-"), dtype=np.uint8), negative[:, None], sign)
    p.masked(*num)
    p.pick(den, _DEN_TABLE)


def canon_int(p: Packer, tag: bytes, values: Ints) -> None:
    """``<tag><decimal>`` of non-negative integers (microseconds ``T``, ordinals ``A``)."""
    if values.size and int(values.min()) < 0:
        raise ValueError("columnar encoding takes non-negative integers here")
    digits = digit_matrix(values)
    p.full(big_endian(1 + digits[2], ">i4"))
    p.const(tag)
    p.masked(*digits)


def canon_decimal(p: Packer, units: Ints, scale: int) -> None:
    """Decimal ``units / 10**scale`` as ``D<p>/<q>``, its reduced fraction (non-negative).

    The general form of ``canon_cents`` (any power-of-ten scale, e.g. a 6-place rate).
    """
    if units.size and int(units.min()) < 0:
        raise ValueError("columnar amounts are non-negative")
    base = 10**scale
    g = np.gcd(units, base)
    num = digit_matrix(units // g)
    den = digit_matrix(base // g)
    p.full(big_endian(2 + num[2] + den[2], ">i4"))
    p.const(b"D")
    p.masked(*num)
    p.const(b"/")
    p.masked(*den)


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
