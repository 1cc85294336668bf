"""Key material for rows: ids, keyed per-row integers, keyed permutations.

Nothing here reads the salt: ids and business numbers must not move when the salt
rotates, and the salt only ever feeds the PII masker.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable

from factories.counters import RowStream
from factories.spec import GENERATOR_VERSION, tenant_uuid

_SEP = b"\x1f"


def entity_namespace(tenant: str, env: str, mode: str, entity: str) -> uuid.UUID:
    """Namespace of one entity's ids within one env/tenant/mode dataset."""
    return uuid.uuid5(tenant_uuid(env, tenant), f"{mode}/{entity}")


def entity_key(*parts: str) -> bytes:
    """A 32-byte BLAKE2b key bound to the generator version and an identity tuple."""
    material = _SEP.join(p.encode() for p in ("seedbank-row", GENERATOR_VERSION, *parts))
    return hashlib.blake2b(material, digest_size=32).digest()


def id_maker(namespace: uuid.UUID) -> Callable[[int], uuid.UUID]:
    """Row ids of one entity: ``counters.id_matrix``'s values, one ``uuid.UUID`` a call."""
    return RowStream(namespace.bytes).uuid


def row_draw(key: bytes) -> Callable[[int], int]:
    """Per-row randomness: a 256-bit keyed integer for row ``i`` of one entity.

    Callers slice it into independent 32-bit lanes with ``lane``; it is row i of the
    keyed Philox stream (``factories.counters``), so any row can be recomputed alone and
    batching and order never change a value.
    """
    return RowStream(key).integer


def lane(r: int, k: int) -> int:
    """The ``k``-th independent 32-bit lane (0..7) of a 256-bit draw."""
    return (r >> (32 * k)) & 0xFFFFFFFF


FEISTEL_ROUNDS = 6


MIX_MASK = (1 << 64) - 1
MIX_1, MIX_2 = 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53
"""MurmurHash3's 64-bit finaliser constants (``fmix64``)."""


def round_keys(key: bytes, rounds: int = FEISTEL_ROUNDS) -> tuple[int, ...]:
    """One 64-bit key per Feistel round, keyed BLAKE2b of the round number."""
    return tuple(
        int.from_bytes(hashlib.blake2b(bytes((rnd,)), key=key, digest_size=8).digest(), "little")
        for rnd in range(rounds)
    )


def mix64(x: int) -> int:
    """MurmurHash3's ``fmix64``: a bijection of 64-bit words with full avalanche."""
    x ^= x >> 33
    x = (x * MIX_1) & MIX_MASK
    x ^= x >> 33
    x = (x * MIX_2) & MIX_MASK
    return x ^ (x >> 33)


class Feistel:
    """A keyed bijection of ``[0, 10**(2*half))``: collision-free numbers by construction.

    Balanced numeric Feistel (L, R) -> (R, (L + F_k(R)) mod 10**half); each round is
    invertible whatever F is, so the whole is a permutation of the exact domain and
    needs no cycle walking. F_k(R) = fmix64(R xor k) with a keyed 64-bit k per round:
    the order looks random, and numpy evaluates it a column at a time
    (``columnar.feistel.feistel_column``). Business numbers carry no secret; PII's format-
    preserving permutation (``pii.fpe``) keeps its keyed HMAC.
    """

    __slots__ = ("_keys", "_m")

    def __init__(self, key: bytes, half: int, rounds: int = FEISTEL_ROUNDS) -> None:
        self._keys = round_keys(key, rounds)
        self._m: int = 10**half

    @property
    def domain(self) -> int:
        return self._m * self._m

    def __call__(self, x: int) -> int:
        if not 0 <= x < self._m * self._m:
            raise ValueError(f"{x} is outside the permutation domain")
        m = self._m
        left, right = divmod(x, m)
        for k in self._keys:
            left, right = right, (left + mix64(right ^ k)) % m
        return left * m + right


def luhn_digit(digits: str) -> str:
    """Luhn check digit of a decimal string (catches typos in account numbers)."""
    total = 0
    for pos, ch in enumerate(reversed(digits)):
        d = int(ch)
        if pos % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def _mod11(total: int) -> int:
    rest = total % 11
    return 0 if rest < 2 else 11 - rest


def cpf_check_digits(base9: str) -> str:
    """The two CPF check digits of 9 base digits (weights 10..2, then 11..2)."""
    d = [ord(c) - 48 for c in base9]
    first = _mod11(sum(x * w for x, w in zip(d, (10, 9, 8, 7, 6, 5, 4, 3, 2), strict=True)))
    d.append(first)
    second = _mod11(sum(x * w for x, w in zip(d, (11, 10, 9, 8, 7, 6, 5, 4, 3, 2), strict=True)))
    return f"{first}{second}"


def cnpj_check_digits(base12: str) -> str:
    """The two CNPJ check digits of 12 base digits (weights cycle 2..9 from the right)."""
    d = [ord(c) - 48 for c in base12]
    for _ in range(2):
        d.append(_mod11(sum(x * (2 + i % 8) for i, x in enumerate(reversed(d)))))
    return f"{d[12]}{d[13]}"
