"""The keyed Philox streams (dataset format 2026.3): slices are independent of batching,
any rows can be drawn in any order, and ids are distinct at 10x the largest hard cap."""

from __future__ import annotations

import itertools
import uuid

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from factories import counters
from factories.keys import entity_key, entity_namespace, id_maker, lane, row_draw
from seedbank.domain.manifest import HARD_CAPS

KEY = entity_key("acme", "dev", "baseline", "financial_transaction")
NAMESPACE = entity_namespace("acme", "dev", "baseline", "financial_transaction")


@settings(max_examples=200, deadline=None)
@given(start=st.integers(0, 2**40), cuts=st.lists(st.integers(0, 3_000), max_size=6))
def test_a_slice_is_the_concatenation_of_its_sub_slices(start: int, cuts: list[int]) -> None:
    bounds = [start, *sorted(start + c for c in cuts), start + 3_000]
    whole = counters.lanes(KEY, start, start + 3_000)
    parts = [counters.lanes(KEY, a, b) for a, b in itertools.pairwise(bounds)]
    assert np.array_equal(np.vstack(parts), whole)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2**20), min_size=1, max_size=200))
def test_rows_drawn_in_any_order_are_the_rows_drawn_one_by_one(indices: list[int]) -> None:
    got = counters.lanes_at(KEY, indices)
    draw = row_draw(KEY)
    expected = [[lane(draw(i), k) for k in range(8)] for i in indices]
    assert got.tolist() == expected
    ids = counters.id_matrix(NAMESPACE, np.array(indices, dtype=np.int64))
    make = id_maker(NAMESPACE)
    assert [uuid.UUID(bytes=row.tobytes()) for row in ids] == [make(i) for i in indices]


def test_rows_outside_the_stream_are_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        counters.lanes(KEY, -1, 5)
    with pytest.raises(ValueError, match="outside"):
        counters.lanes_at(KEY, [3, counters.MAX_INDEX])
    with pytest.raises(ValueError, match="16 bytes"):
        counters.lanes(b"short", 0, 1)


def test_ids_are_distinct_at_ten_times_the_largest_hard_cap() -> None:
    """Distinct 64-bit prefixes imply distinct ids (2.4 * 10**7 of them, a few seconds)."""
    count = 10 * max(HARD_CAPS.values())
    ids = counters.id_matrix(NAMESPACE, range(0, 0))  # the empty batch is well formed
    assert ids.shape == (0, 16)
    prefixes = np.empty(count, dtype=np.uint64)
    step = 1 << 21
    for at in range(0, count, step):
        block = counters.id_matrix(NAMESPACE, np.arange(at, min(at + step, count)))
        assert ((block[:, 6] >> 4) == 8).all()
        assert ((block[:, 8] >> 6) == 2).all()
        prefixes[at : at + block.shape[0]] = block[:, :8].copy().view("<u8").reshape(-1)
    prefixes.sort()  # np.unique takes ~40 s here, a sort ~2
    assert bool((prefixes[1:] != prefixes[:-1]).all())
