"""The fast paths the benchmark's profile led to produce the reference bytes.

`encode_row` inlines `encode_value`'s dispatch and `IdMaker` assembles UUIDs from
their integer; the golden digests pin both end to end, these pin them value by value.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from factories import keys
from factories.banking import default_context
from factories.digest import encode_row, encode_value
from factories.keys import IdMaker
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


def test_id_maker_is_uuid5_of_the_decimal_index() -> None:
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, "seedbank/bench")
    make = IdMaker(namespace)
    for index in (*range(2_000), 10**9, 2**63):
        made, expected = make(index), uuid.uuid5(namespace, str(index))
        assert made == expected
        assert (made.int, made.version, made.variant) == (expected.int, 5, uuid.RFC_4122)
        assert (str(made), hash(made), made.is_safe) == (
            str(expected),
            hash(expected),
            expected.is_safe,
        )


def test_parent_refs_are_the_same_ids_and_their_memo_stays_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(keys, "REF_MEMO_LIMIT", 100)
    monkeypatch.setattr(keys, "_ref_memo_size", [0])
    makers = [IdMaker(uuid.uuid5(uuid.NAMESPACE_URL, f"seedbank/memo/{n}")) for n in range(3)]
    for index in range(1_000):
        for make in makers:
            assert make.ref(index) == make(index)
            assert make.ref(index) is make.ref(index)  # the second call is the memo's
    assert 0 < keys._ref_memo_size[0] <= 100
    assert sum(len(make._refs) for make in makers) <= 100


@pytest.mark.parametrize("entity", ENTITIES)
def test_bulk_rows_are_the_rows_one_by_one(entity: str) -> None:
    rc = default_context(salt=b"bench-equivalence-salt-0123456789").rows()
    stop = min(rc.spec.count(entity), 40)
    assert masked_rows(rc, entity, 0, stop) == [masked_row(rc, entity, i) for i in range(stop)]


def test_draws_and_permutations_equal_one_shot_keyed_blake2b() -> None:
    key = keys.entity_key("acme", "dev", "baseline", "bench")
    draw = keys.row_draw(key)
    feistel = keys.Feistel(key, half=3)
    for index in range(0, 1_000_000, 997):
        one_shot = hashlib.blake2b(index.to_bytes(8, "little"), key=key, digest_size=32)
        assert draw(index) == int.from_bytes(one_shot.digest(), "little")
        left, right = divmod(index, 1_000)
        for rnd in range(6):
            f = hashlib.blake2b(right.to_bytes(8, "little") + bytes((rnd,)), key=key, digest_size=8)
            left, right = right, (left + int.from_bytes(f.digest(), "little")) % 1_000
        assert feistel(index) == left * 1_000 + right
