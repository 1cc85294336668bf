"""seedbank's pure generation core: deterministic rows, PII masking, factories, batch plan.

- ``factories.spec``: ``DatasetSpec``, count rules, ``tenant_uuid``, ``GENERATOR_VERSION``.
- ``factories.planner``: ``plan``, ``BatchSpec``, ``generate_batch`` (the bulk path).
- ``factories.digest``: canonical row encoding, batch and dataset digests.
- ``factories.pii``: ``PII_CATALOG``, ``Masker``, ``is_masked``.
- ``factories.banking``: factory-boy factories (BUILD only) with scenario traits.

No I/O, no environment, no clock, no logging setup: every value is a function of the
spec, the row index and (PII only) the salt. Submodules are imported explicitly so a
Celery worker does not pay for factory-boy.
"""
