"""The dispatch schedule: no batch before its parents are written, chains before leaves."""

from __future__ import annotations

import random

import pytest

from factories.planner import BatchSpec, plan
from factories.references import parent_spans
from factories.spec import DatasetSpec
from seedbank.domain.models import ENTITY_PARENTS
from seedbank.services.seeding.schedule import Needs, Schedule, heights
from seedbank.services.seeding.stages import ENTITY_ORDER
from tests.unit.factories.support import golden_spec


def _batches(counts: dict[str, int], size: int) -> list[BatchSpec]:
    out = []
    for entity in ENTITY_ORDER:
        n = counts.get(entity, 0)
        out += [BatchSpec(entity, s, min(s + size, n)) for s in range(0, n, size)]
    return out


COUNTS = {
    "tenant": 1,
    "app_user": 30,
    "advisor": 20,
    "account_category": 5,
    "supplier": 40,
    "customer": 100,
    "address": 100,
    "bank_account": 150,
    "credit_limit": 150,
    "contract": 80,
    "loan": 30,
    "installment": 360,
    "financial_transaction": 2000,
}


@pytest.mark.parametrize("seed", range(25))
def test_no_batch_is_handed_out_before_every_parent_batch_is_written(seed: int) -> None:
    rnd = random.Random(seed)
    batches = _batches(COUNTS, rnd.choice((7, 25, 100)))
    schedule = Schedule.of(batches, ENTITY_PARENTS, ENTITY_ORDER)
    window = rnd.randint(1, 20)
    in_flight: list[BatchSpec] = []
    written: dict[str, int] = dict.fromkeys(ENTITY_PARENTS, 0)
    planned = {e: sum(1 for b in batches if b.entity == e) for e in ENTITY_PARENTS}
    handed: list[BatchSpec] = []
    while True:
        for batch in schedule.take(window - len(in_flight)):
            for parent in ENTITY_PARENTS[batch.entity]:
                assert written[parent] == planned[parent], (batch, parent)
            in_flight.append(batch)
            handed.append(batch)
        assert len(in_flight) <= window
        if not in_flight:
            break
        batch = in_flight.pop(rnd.randrange(len(in_flight)))  # any finishing order
        written[batch.entity] += 1
        schedule.complete(batch)
    assert sorted(handed, key=repr) == sorted(batches, key=repr)  # each exactly once
    assert schedule.done
    assert set(schedule.finished) == set(ENTITY_PARENTS)


def test_the_chain_below_an_account_goes_before_the_transactions() -> None:
    schedule = Schedule.of(_batches(COUNTS, 50), ENTITY_PARENTS, ENTITY_ORDER)
    while "bank_account" not in schedule.finished:
        for batch in schedule.take(100):
            schedule.complete(batch)
    first = schedule.take(4)
    assert [b.entity for b in first] == ["credit_limit"] * 3 + ["financial_transaction"]
    # A freed slot goes to the chain's next level as soon as it is released.
    for batch in first[:3]:
        schedule.complete(batch)
    assert schedule.take(1)[0].entity == "contract"


def test_entities_without_batches_finish_and_release_their_children() -> None:
    counts = {"tenant": 1, "advisor": 3, "customer": 5}
    schedule = Schedule.of(_batches(counts, 10), ENTITY_PARENTS, ENTITY_ORDER)
    taken = schedule.take(10)
    assert [b.entity for b in taken] == ["tenant"]
    assert "app_user" not in schedule.finished  # released only once its tenant is written
    schedule.complete(taken[0])
    assert {"app_user", "account_category", "supplier"} <= set(schedule.finished)
    assert [b.entity for b in schedule.take(10)] == ["advisor"]


def test_heights_follow_the_longest_chain_of_dependants() -> None:
    h = heights(ENTITY_PARENTS)
    assert h["installment"] == h["financial_transaction"] == h["address"] == 0
    assert h["loan"] == 1
    assert h["credit_limit"] == 3
    assert h["tenant"] == max(h.values())


def test_a_cycle_or_an_unknown_parent_is_refused() -> None:
    with pytest.raises(ValueError, match="cycle"):
        heights({"a": {"b"}, "b": {"a"}})
    with pytest.raises(ValueError, match="parents without an entry"):
        Schedule.of([], {"a": {"ghost"}}, ["a"])


def _spec_needs(size: int) -> tuple[list[BatchSpec], Needs, DatasetSpec]:
    counts = {e: n for e, n in COUNTS.items() if e != "tenant"}
    spec = golden_spec(counts=counts, loan_term_months=12)
    batches = plan(spec, size)

    def needs(batch: BatchSpec, parent: str) -> list[tuple[int, int]]:
        return parent_spans(spec, batch.entity, parent, batch.start, batch.stop)

    return batches, needs, spec


@pytest.mark.parametrize("seed", range(25))
def test_with_needs_no_batch_goes_before_the_parent_batches_it_references(seed: int) -> None:
    rnd = random.Random(seed)
    batches, needs, _ = _spec_needs(rnd.choice((7, 25, 100)))
    schedule = Schedule.of(batches, ENTITY_PARENTS, ENTITY_ORDER, needs)
    window = rnd.randint(1, 20)
    in_flight: list[BatchSpec] = []
    written: set[BatchSpec] = set()
    handed: list[BatchSpec] = []
    while True:
        for batch in schedule.take(window - len(in_flight)):
            for parent in ENTITY_PARENTS[batch.entity]:
                for lo, hi in needs(batch, parent):
                    holding = [
                        b for b in batches if b.entity == parent and b.start < hi and b.stop > lo
                    ]
                    assert holding, (batch, parent)
                    assert set(holding) <= written, (batch, parent)
            in_flight.append(batch)
            handed.append(batch)
        if not in_flight:
            break
        batch = in_flight.pop(rnd.randrange(len(in_flight)))
        written.add(batch)
        schedule.complete(batch)
    assert sorted(handed, key=repr) == sorted(batches, key=repr)
    assert schedule.done
    assert set(schedule.finished) == set(ENTITY_PARENTS)


def test_with_needs_a_customer_batch_written_lets_its_children_go() -> None:
    """The first level boundary no longer idles a worker: the addresses and accounts of
    the customers written go while the other customers are still being written."""
    batches, needs, _ = _spec_needs(25)
    schedule = Schedule.of(batches, ENTITY_PARENTS, ENTITY_ORDER, needs)
    while "customer" not in schedule.released:
        for batch in schedule.take(100):
            schedule.complete(batch)
    customers = [b for b in schedule.take(100) if b.entity == "customer"]
    assert len(customers) == 4  # 100 customers, 25 a batch
    while other := [b for b in schedule.take(100) if b.entity != "customer"]:
        for batch in other:  # advisors, categories, suppliers: written
            schedule.complete(batch)
    schedule.complete(customers[0])
    children = {(b.entity, b.start) for b in schedule.take(100)}
    assert children == {("address", 0), ("bank_account", 0), ("bank_account", 100)}


def test_without_needs_a_child_waits_for_its_whole_parent() -> None:
    batches, _, _ = _spec_needs(25)
    schedule = Schedule.of(batches, ENTITY_PARENTS, ENTITY_ORDER)
    while "customer" not in schedule.released:
        for batch in schedule.take(100):
            schedule.complete(batch)
    customers = [b for b in schedule.take(100) if b.entity == "customer"]
    while other := [b for b in schedule.take(100) if b.entity != "customer"]:
        for batch in other:
            schedule.complete(batch)
    for batch in customers[:3]:
        schedule.complete(batch)
    assert schedule.take(100) == []
