"""The fast paths the benchmark's profile led to produce the reference bytes.

`encode_row` inlines `encode_value`'s dispatch and `id_maker` assembles UUIDs from
their integer; the golden digests pin both end to end, these pin them value by value.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from numpy.random import Philox

from factories import keys
from factories.banking import default_context
from factories.digest import encode_row, encode_value
from factories.keys import id_maker
from factories.rows import masked_row, masked_rows
from factories.spec import ENTITIES

VALUES = [
    None,
    0,
    -7,
    10**30,
    "",
    "São Paulo",
    "x" * 300,  # a length prefix above one byte
    uuid.UUID(int=0),
    uuid.uuid5(uuid.NAMESPACE_URL, "seedbank"),
    Decimal("12.30"),
    Decimal("-0.01"),
    Decimal(10).scaleb(-2),
    datetime(2026, 6, 30, 12, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone(timedelta(hours=-3))),
    date(2000, 2, 29),
]


def reference(row: Sequence[object]) -> bytes:
    out = b""
    for value in row:
        enc = encode_value(value)
        out += len(enc).to_bytes(4, "big") + enc
    return out


def test_encode_row_is_the_length_prefixed_encode_value_of_each_value() -> None:
    assert encode_row(VALUES) == reference(VALUES)
    for value in VALUES:
        assert encode_row([value]) == reference([value])
    assert encode_row([]) == b""


@pytest.mark.parametrize("value", [True, 1.5, datetime(2026, 1, 1), bytearray(b"x")])  # noqa: DTZ001
def test_encode_row_refuses_what_encode_value_refuses(value: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        encode_value(value)
    with pytest.raises((TypeError, ValueError)):
        encode_row([value])


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


def test_draws_are_the_keyed_philox_block_and_permutations_one_shot_keyed_blake2b() -> None:
    key = keys.entity_key("acme", "dev", "baseline", "bench")
    draw = keys.row_draw(key)
    feistel = keys.Feistel(key, half=3)
    philox_key = [int.from_bytes(key[k : k + 8], "little") for k in (0, 8)]
    for index in range(0, 1_000_000, 997):
        block = Philox(key=philox_key, counter=[index, 0, 0, 0]).random_raw(4)
        assert draw(index) == int.from_bytes(block.astype("<u8").tobytes(), "little")
        left, right = divmod(index, 1_000)
        for rnd in range(6):
            f = hashlib.blake2b(right.to_bytes(8, "little") + bytes((rnd,)), key=key, digest_size=8)
            left, right = right, (left + int.from_bytes(f.digest(), "little")) % 1_000
        assert feistel(index) == left * 1_000 + right
