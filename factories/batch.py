"""What travels in a message: a batch is an entity and an index range (no PII, no salt).

Below the planner and the columnar generators, which both take it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from factories.spec import ENTITIES

TEST_ONLY_SALT = b"seedbank TEST-ONLY salt: not a secret, never for seeding"
"""Default salt of developers' factories; ``generate_batch`` refuses it."""


@dataclass(frozen=True)
class BatchSpec:
    entity: str
    start: int
    stop: int

    def __post_init__(self) -> None:
        if self.entity not in ENTITIES:
            raise ValueError(f"unknown entity {self.entity!r}")
        if not 0 <= self.start < self.stop:
            raise ValueError(f"bad batch range [{self.start}, {self.stop})")

    def to_json(self) -> dict[str, Any]:
        return {"entity": self.entity, "start": self.start, "stop": self.stop}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BatchSpec:
        return cls(str(data["entity"]), int(data["start"]), int(data["stop"]))
