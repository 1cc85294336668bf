"""Which batch to send next: foreign keys decide when, the dependency chain decides what.

A batch is sent once every parent batch holding rows it references is written, so a
child row never meets a missing parent: with ``needs`` (the parent rows a batch
references, ``factories.references``) that is the few parent batches it points into;
without, every batch of each parent entity. Among the batches that may go, those of the
entities with the longest chain of dependants below them go first (credit_limit →
contract → loan → installment before financial_transaction), so the chain's level
boundaries, where workers would wait for a last batch, are filled with other batches.
The dispatcher keeps a bounded window of batches in flight, so the queue stays short and
the order holds. Pure: no broker, no clock.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from factories.planner import BatchSpec

Needs = Callable[[BatchSpec, str], Sequence[tuple[int, int]]]
"""The spans [start, stop) of one parent entity's rows that a batch references."""


def heights(parents: Mapping[str, Iterable[str]]) -> dict[str, int]:
    """Length of the longest chain of dependants below each entity (a leaf has 0)."""
    children: dict[str, list[str]] = {e: [] for e in parents}
    for child, ps in parents.items():
        for p in ps:
            children.setdefault(p, []).append(child)
    memo: dict[str, int] = {}

    def height(entity: str, path: frozenset[str]) -> int:
        if entity in path:
            raise ValueError(f"the entity graph has a cycle through {entity}")
        if entity not in memo:
            below = [height(c, path | {entity}) + 1 for c in children.get(entity, ())]
            memo[entity] = max(below, default=0)
        return memo[entity]

    return {e: height(e, frozenset()) for e in parents}


@dataclass
class Schedule:
    """The batches of one run, handed out as their parents' batches are written."""

    parents: Mapping[str, frozenset[str]]
    order: Sequence[str]
    """Tie-break between entities of equal height (foreign-key order)."""
    _ready: dict[str, list[tuple[int, BatchSpec]]] = field(init=False)
    """Per entity, the batches that may go now, by start."""
    _waiting: dict[BatchSpec, int] = field(init=False)
    """Unwritten parent batches each batch still waits for."""
    _dependants: dict[BatchSpec | str, list[BatchSpec]] = field(init=False)
    """Batches waiting for a batch, or for every batch of an entity (its name)."""
    _left: dict[str, int] = field(init=False)
    _rank: list[str] = field(init=False)
    released: list[str] = field(init=False, default_factory=list)
    """Entities in the order their first batch could go (or, without batches, their
    parents were all written)."""
    finished: list[str] = field(init=False, default_factory=list)

    @classmethod
    def of(
        cls,
        batches: Iterable[BatchSpec],
        parents: Mapping[str, Iterable[str]],
        order: Sequence[str],
        needs: Needs | None = None,
    ) -> Schedule:
        unknown = {p for ps in parents.values() for p in ps} - set(parents)
        if unknown:
            raise ValueError(f"parents without an entry of their own: {sorted(unknown)}")
        schedule = cls({e: frozenset(ps) for e, ps in parents.items()}, tuple(order))
        by_entity: dict[str, list[BatchSpec]] = {e: [] for e in schedule.parents}
        for batch in batches:
            if batch.entity not in by_entity:
                raise ValueError(f"batch of unknown entity {batch.entity}")
            by_entity[batch.entity].append(batch)
            schedule._left[batch.entity] += 1
        for entity_batches in by_entity.values():
            entity_batches.sort(key=lambda b: b.start)
        starts = {e: [b.start for b in bs] for e, bs in by_entity.items()}
        for entity, entity_batches in by_entity.items():
            for batch in entity_batches:
                waits: set[BatchSpec | str] = set()
                for parent in schedule.parents[entity]:
                    if by_entity[parent]:
                        waits.update(
                            _written_first(batch, parent, by_entity[parent], starts[parent], needs)
                        )
                schedule._waiting[batch] = len(waits)
                for key in waits:
                    schedule._dependants.setdefault(key, []).append(batch)
                if not waits:
                    schedule._push(batch)
        schedule._settle()
        return schedule

    def __post_init__(self) -> None:
        self._ready = {e: [] for e in self.parents}
        self._waiting = {}
        self._dependants = {}
        self._left = dict.fromkeys(self.parents, 0)
        h = heights(self.parents)
        position = {e: i for i, e in enumerate(self.order)}
        self._rank = sorted(self.parents, key=lambda e: (-h[e], position.get(e, len(position))))

    @property
    def done(self) -> bool:
        return len(self.finished) == len(self.parents)

    def take(self, capacity: int) -> list[BatchSpec]:
        """Up to `capacity` batches that may be sent now, most urgent first."""
        out: list[BatchSpec] = []
        for entity in self._rank:
            ready = self._ready[entity]
            while ready and len(out) < capacity:
                out.append(heapq.heappop(ready)[1])
        return out

    def complete(self, batch: BatchSpec) -> None:
        """Record a written batch; batches waiting for it (and its entity's end) may go."""
        self._left[batch.entity] -= 1
        if self._left[batch.entity] < 0:
            raise ValueError(f"more batches of {batch.entity} completed than were planned")
        written: list[BatchSpec | str] = [batch]
        if self._left[batch.entity] == 0:
            written.append(batch.entity)
        for key in written:
            for dependant in self._dependants.pop(key, []):
                self._waiting[dependant] -= 1
                if self._waiting[dependant] == 0:
                    self._push(dependant)
        self._settle()

    def _push(self, batch: BatchSpec) -> None:
        heapq.heappush(self._ready[batch.entity], (batch.start, batch))
        if batch.entity not in self.released:
            self.released.append(batch.entity)

    def _settle(self) -> None:
        """Entities without batches are released once their parents are written; an
        entity whose batches are all written is finished."""
        changed = True
        while changed:
            changed = False
            for entity in self._rank:
                if (
                    entity not in self.released
                    and self._left[entity] == 0
                    and self.parents[entity] <= set(self.finished)
                ):
                    self.released.append(entity)
                    changed = True
                if (
                    entity in self.released
                    and entity not in self.finished
                    and self._left[entity] == 0
                ):
                    self.finished.append(entity)
                    changed = True


def _written_first(
    batch: BatchSpec,
    parent: str,
    parent_batches: Sequence[BatchSpec],
    starts: Sequence[int],
    needs: Needs | None,
) -> list[BatchSpec | str]:
    """What ``batch`` waits for in ``parent``: the parent batches (sorted by start,
    covering it) holding the rows it references, or the entity's name for all of them."""
    spans = [(0, parent_batches[-1].stop)] if needs is None else needs(batch, parent)
    out: list[BatchSpec | str] = []
    for lo, hi in spans:
        if lo <= 0 and hi >= parent_batches[-1].stop:
            return [parent]  # the whole entity: one counter, not an edge per batch
        k = max(bisect_right(starts, lo) - 1, 0)
        while k < len(parent_batches) and parent_batches[k].start < hi:
            if parent_batches[k].stop > lo:
                out.append(parent_batches[k])
            k += 1
    return [parent] if len(set(out)) == len(parent_batches) > 1 else out
