"""Which batch to send next: foreign keys decide when, the dependency chain decides what.

An entity is released once every entity it references has all its batches written, so a
child row never meets a missing parent. Among released entities, those with the longest
chain of dependants below them go first (credit_limit → contract → loan → installment
before financial_transaction): the chain's level boundaries, where workers would wait for
an entity's last batch, are filled with batches of the leaves. The dispatcher keeps a
bounded window of batches in flight, so the queue stays short and the order holds.
Pure: no broker, no clock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from factories.planner import BatchSpec


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
    """The batches of one run, handed out in dependency order."""

    parents: Mapping[str, frozenset[str]]
    order: Sequence[str]
    """Tie-break between entities of equal height (foreign-key order)."""
    _todo: dict[str, deque[BatchSpec]] = field(init=False)
    _left: dict[str, int] = field(init=False)
    _rank: list[str] = field(init=False)
    released: list[str] = field(init=False, default_factory=list)
    finished: list[str] = field(init=False, default_factory=list)

    @classmethod
    def of(
        cls,
        batches: Iterable[BatchSpec],
        parents: Mapping[str, Iterable[str]],
        order: Sequence[str],
    ) -> Schedule:
        unknown = {p for ps in parents.values() for p in ps} - set(parents)
        if unknown:
            raise ValueError(f"parents without an entry of their own: {sorted(unknown)}")
        schedule = cls({e: frozenset(ps) for e, ps in parents.items()}, tuple(order))
        for batch in batches:
            if batch.entity not in schedule._todo:
                raise ValueError(f"batch of unknown entity {batch.entity}")
            schedule._todo[batch.entity].append(batch)
            schedule._left[batch.entity] += 1
        schedule._release()
        return schedule

    def __post_init__(self) -> None:
        self._todo = {e: deque() for e in self.parents}
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
            if len(out) >= capacity:
                break
            if entity not in self.released:
                continue
            queue = self._todo[entity]
            while queue and len(out) < capacity:
                out.append(queue.popleft())
        return out

    def complete(self, batch: BatchSpec) -> None:
        """Record a written batch; its entity may finish and release its children."""
        self._left[batch.entity] -= 1
        if self._left[batch.entity] < 0:
            raise ValueError(f"more batches of {batch.entity} completed than were planned")
        self._release()

    def _release(self) -> None:
        changed = True
        while changed:
            changed = False
            for entity in self._rank:
                if entity not in self.released and self.parents[entity] <= set(self.finished):
                    self.released.append(entity)
                    changed = True
                if (
                    entity in self.released
                    and entity not in self.finished
                    and self._left[entity] == 0
                ):
                    self.finished.append(entity)
                    changed = True
