"""The fast paths the benchmark's profile led to produce the reference values.

`id_maker` assembles UUIDs from their integer and the row path draws a block of rows at
once; the golden digests pin both end to end, these pin them value by value.
"""

from __future__ import annotations

import hashlib
import uuid

import pytest
from numpy.random import Philox

from factories import keys
from factories.banking import default_context
from factories.keys import id_maker
from factories.rows import masked_row, masked_rows
from factories.spec import ENTITIES


def test_row_ids_are_the_keyed_philox_block_as_a_version_8_uuid() -> None:
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, "seedbank/bench")
    make = id_maker(namespace)
    key = [int.from_bytes(namespace.bytes[k : k + 8], "little") for k in (0, 8)]
    for index in (*range(600), 10**9, 2**62 - 1):
        block = Philox(key=key, counter=[index, 0, 0, 0]).random_raw(4).astype("<u8").tobytes()
        raw = bytearray(block[:16])
        raw[6] = (raw[6] & 0x0F) | 0x80
        raw[8] = (raw[8] & 0x3F) | 0x80
        expected = uuid.UUID(bytes=bytes(raw))
        made = make(index)
        assert (made.int, made.version, made.variant) == (expected.int, 8, uuid.RFC_4122)
        assert (str(made), hash(made), made.is_safe) == (
            str(expected),
            hash(expected),
            expected.is_safe,
        )
    with pytest.raises(ValueError, match="outside"):
        make(-1)


@pytest.mark.parametrize("entity", ENTITIES)
def test_bulk_rows_are_the_rows_one_by_one(entity: str) -> None:
    rc = default_context(salt=b"bench-equivalence-salt-0123456789").rows()
    stop = min(rc.spec.count(entity), 40)
    assert masked_rows(rc, entity, 0, stop) == [masked_row(rc, entity, i) for i in range(stop)]


def _fmix64(x: int) -> int:
    """MurmurHash3's fmix64, written out from its reference (``h ^= h >> 33; h *= ...``)."""
    x = (x ^ (x >> 33)) * 0xFF51AFD7ED558CCD % 2**64
    x = (x ^ (x >> 33)) * 0xC4CEB9FE1A85EC53 % 2**64
    return x ^ (x >> 33)


def test_draws_are_the_keyed_philox_block_and_permutations_keyed_fmix64_rounds() -> None:
    key = keys.entity_key("acme", "dev", "baseline", "bench")
    draw = keys.row_draw(key)
    feistel = keys.Feistel(key, half=3)
    philox_key = [int.from_bytes(key[k : k + 8], "little") for k in (0, 8)]
    rounds = [
        int.from_bytes(hashlib.blake2b(bytes((rnd,)), key=key, digest_size=8).digest(), "little")
        for rnd in range(6)
    ]
    for index in range(0, 1_000_000, 997):
        block = Philox(key=philox_key, counter=[index, 0, 0, 0]).random_raw(4)
        assert draw(index) == int.from_bytes(block.astype("<u8").tobytes(), "little")
        left, right = divmod(index, 1_000)
        for k in rounds:
            left, right = right, (left + _fmix64(right ^ k)) % 1_000
        assert feistel(index) == left * 1_000 + right
