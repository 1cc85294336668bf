"""Prefect tasks of the `expurge` and `verify` flows: one line per stage over a service.

As tasks, each env/tenant's expurge and the verification show in the Prefect UI as
task runs of their own and can be retried there; no caching and no result persistence,
as for the seed's stages (`tasks/stages.py`).
"""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from seedbank.services.maintenance import expurge_tenant as _expurge_tenant
from seedbank.services.verify import verify_database as _verify_database

expurge_tenant = task(name="expurge-tenant", cache_policy=NO_CACHE, persist_result=False)(
    _expurge_tenant
)
verify_database = task(name="verify-gates", cache_policy=NO_CACHE, persist_result=False)(
    _verify_database
)
