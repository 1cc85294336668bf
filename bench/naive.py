"""The naive peer: what a team writes without seedbank. factory-boy `.build()` per row
(`factories.banking`), then SQLModel `session.add_all` + commit, under the same RLS,
over a sample of the dataset; the bench scales its time to the full volume."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from sqlalchemy import create_engine, pool, text
from sqlmodel import Session

from factories.banking import FACTORIES, FactoryContext
from factories.spec import ENTITIES, DatasetSpec
from seedbank.adapters.postgres import sqlalchemy_url

CHUNK = 5_000


@dataclass
class NaiveRun:
    rows: int
    seconds: float
    build_s: float = 0.0
    persist_s: float = 0.0
    per_entity: dict[str, float] = field(default_factory=dict)


def _bind(session: Session, tenant_id: uuid.UUID) -> None:
    session.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)})


def run_naive(app_url: str, spec: DatasetSpec, salt: bytes) -> NaiveRun:
    """Every row of `spec` built one by one and persisted through the ORM, chunk by chunk."""
    engine = create_engine(sqlalchemy_url(app_url), poolclass=pool.NullPool)
    ctx = FactoryContext(spec, salt)
    result = NaiveRun(rows=sum(spec.count(e) for e in ENTITIES), seconds=0.0)
    started = time.monotonic()
    try:
        with Session(engine) as session:
            for entity in ENTITIES:
                factory, count, entity_started = (
                    FACTORIES[entity],
                    spec.count(entity),
                    time.monotonic(),
                )
                for start in range(0, count, CHUNK):
                    t0 = time.monotonic()
                    objects = [
                        factory.build(ctx=ctx, index=i)
                        for i in range(start, min(start + CHUNK, count))
                    ]
                    t1 = time.monotonic()
                    _bind(session, spec.tenant_id)
                    session.add_all(objects)
                    session.commit()
                    result.build_s += t1 - t0
                    result.persist_s += time.monotonic() - t1
                result.per_entity[entity] = round(time.monotonic() - entity_started, 3)
    finally:
        engine.dispose()
    result.seconds = time.monotonic() - started
    return result
