"""Everything derived once per (spec, salt) that rows of any entity need.

Built per batch (cheap: a few dozen hashes) and never cached in module state, so the
salt lives only as long as the batch that needs it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from factories.keys import Feistel, entity_key, entity_namespace, id_maker, row_draw
from factories.pii.fpe import DigitPermutation
from factories.pii.masker import Masker
from factories.pools import Pools, pools
from factories.spec import ENTITIES, DatasetSpec

TX_WINDOW = timedelta(days=90)
"""Transactions are booked in the 90 days before as_of; accounts open before that."""

ACCOUNT_HALF_DIGITS = 6  # account numbers: 12 permuted digits
CONTRACT_HALF_DIGITS = 7  # contract numbers: 14 permuted digits
CNPJ_BASE_DIGITS = 8  # supplier CNPJ: 8 permuted digits + branch 0001 + check digits


def cents(n: int) -> Decimal:
    """Integer cents as a 2-place Decimal (no float ever touches money)."""
    return Decimal(n).scaleb(-2)


class RowContext:
    """Precomputed ids, keys, permutations and the masker of one dataset."""

    def __init__(self, spec: DatasetSpec, salt: bytes) -> None:
        self.spec = spec
        self.as_of: datetime = spec.as_of.astimezone(UTC)
        self.as_of_date: date = self.as_of.date()
        self.tenant_id = spec.tenant_id
        self.mode = spec.mode
        self.n: Mapping[str, int] = {e: spec.count(e) for e in ENTITIES}
        scope = (spec.tenant, spec.env, spec.mode)
        self.ids: Mapping[str, Callable[[int], uuid.UUID]] = {
            e: id_maker(entity_namespace(*scope, e)) for e in ENTITIES
        }
        self.refs = self.ids
        """Ids of parent rows (the same makers: each computes a block of ids at once)."""
        self.draw: Mapping[str, Callable[[int], int]] = {
            e: row_draw(entity_key(*scope, e)) for e in ENTITIES
        }
        # The tenant row is shared by every mode and as_of: keyed by env/tenant only.
        self.tenant_draw = row_draw(entity_key(spec.tenant, spec.env, "tenant"))
        self.account_numbers = Feistel(
            entity_key(*scope, "bank_account/number"), ACCOUNT_HALF_DIGITS
        )
        self.contract_numbers = Feistel(entity_key(*scope, "contract/number"), CONTRACT_HALF_DIGITS)
        # Mode-free key: the three datasets of a tenant share it, told apart by mode slot.
        self.cnpj_bases = DigitPermutation(
            entity_key(spec.tenant, spec.env, "supplier/cnpj"), CNPJ_BASE_DIGITS
        )
        self.masker = Masker(salt, spec.tenant, self.as_of_date, spec.mode)
        self.pools: Pools = pools()
        self.memo: dict[tuple[str, int], Any] = {}
        """Per-context memo of pure per-parent derivations (loan terms)."""

    def before(self, seconds: int) -> datetime:
        """``as_of`` minus a whole number of seconds, in UTC."""
        return self.as_of - timedelta(0, seconds)  # positional: a third cheaper
