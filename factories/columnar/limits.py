"""credit_limit rows [start, stop) as columns: the same values as ``ledger.credit_limit``
(limit l belongs to account l, valid from the account's opening plus 0..89 days)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from factories.columnar.fields import (
    Fields,
    copy_text,
)
from factories.columnar.pack import Ints, table
from factories.context import TX_WINDOW, RowContext
from factories.counters import id_matrix, lanes
from factories.keys import entity_key, entity_namespace
from factories.rows.parties import DAY, YEAR

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_STATUS = ("active", "suspended")
_STATUS_COPY = table([copy_text(s) for s in _STATUS])


def encode(rc: RowContext, start: int, stop: int) -> tuple[bytes, Ints, bytes]:
    """(canonical rows back to back, their lengths, the binary COPY stream)."""
    spec = rc.spec
    scope = (spec.tenant, spec.env, spec.mode)
    r = lanes(entity_key(*scope, "credit_limit"), start, stop)
    opened = lanes(entity_key(*scope, "bank_account"), start, stop)[:, 0]
    amount = 100 * 100 * (5 + r[:, 1] % 496)
    used = amount * (r[:, 2] % 10_001) // 10_000
    status = (r[:, 3] % 100 < 7).astype(np.int64)  # 1 = suspended
    as_of_s = (rc.as_of - _EPOCH) // timedelta(seconds=1)
    window = int(TX_WINDOW.total_seconds())
    # account_opened = as_of - (window + DAY + lane0 % 3 years); + lane0 % 90 days; UTC date
    seconds = as_of_s - (window + DAY + opened % (3 * YEAR)) + (r[:, 0] % 90) * DAY
    days = np.floor_divide(seconds, DAY)  # whole seconds: as_of's microseconds never cross a day
    ids = id_matrix(entity_namespace(*scope, "credit_limit"), range(start, stop))
    accounts = entity_namespace(*scope, "bank_account")  # limit l belongs to account l
    account = id_matrix(accounts, range(start, stop))
    tenant, mode = rc.tenant_id.bytes, rc.mode

    f = Fields(stop - start, "credit_limit")
    f.scope(tenant, ids, mode)
    f.uuids(account)
    f.numeric(amount)
    f.numeric(used)
    f.choice(status, _STATUS_COPY)
    f.date(days)
    return f.finish()
