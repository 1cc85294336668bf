"""Rows of the tenant, its people (users, advisors, customers, addresses) and catalogs.

Row functions return raw values in ``column_names`` order; PII columns hold raw
synthetic values that the masker rewrites before anything leaves the core.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from factories.context import TX_WINDOW, RowContext, cents
from factories.keys import cnpj_check_digits, cpf_check_digits, lane
from factories.pii.fpe import plaintext
from factories.pools import FREE_MAIL
from factories.spec import MODES

Row = tuple[Any, ...]
DAY = 86_400
YEAR = 365 * DAY
TENANT_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
"""Tenant rows do not depend on mode or as_of: every mode writes the same row."""

ROLES = ("admin", "operator", "analyst", "auditor", "support")
SEGMENTS = ("retail", "retail", "retail", "premium", "private", "business")
# (kind, code prefix, label, default limit in BRL)
CATEGORY_KINDS = (
    ("checking", "CHK", "Conta Corrente", 2_000),
    ("savings", "SAV", "Conta Poupança", 0),
    ("salary", "SAL", "Conta Salário", 500),
    ("business", "BUS", "Conta PJ", 20_000),
    ("digital", "DIG", "Conta Digital", 1_000),
)
TIERS = (("Essencial", 1), ("Plus", 2), ("Premium", 5), ("Private", 10))
ADDRESS_KINDS = ("commercial", "mailing")


def _raw_name(rc: RowContext, r: int) -> tuple[str, str, str]:
    p = rc.pools
    given = p.given[lane(r, 1) % len(p.given)]
    surname = p.surnames[lane(r, 2) % len(p.surnames)]
    return f"{given} {surname}", p.ascii[given], p.ascii[surname]


def _raw_phone(r: int) -> str:
    return f"+55 {11 + lane(r, 4) % 89} 9{lane(r, 5) % 100_000_000:08d}"


def tenant(rc: RowContext, i: int, scenario: str | None = None) -> Row:
    r = rc.tenant_draw(0)
    spec = rc.spec
    created = TENANT_EPOCH + timedelta(seconds=lane(r, 0) % YEAR)
    return (
        rc.tenant_id,
        spec.tenant,
        spec.env,
        f"Banco {spec.tenant.replace('-', ' ').title()}",
        created,
    )


def app_user(rc: RowContext, i: int, scenario: str | None = None) -> Row:
    r = rc.draw["app_user"](i)
    name, g, s = _raw_name(rc, r)
    email = f"{g}.{s}{i}@{FREE_MAIL[lane(r, 3) % len(FREE_MAIL)]}"
    created = rc.before(DAY + lane(r, 0) % (5 * YEAR))
    return (
        rc.tenant_id,
        rc.ids["app_user"](i),
        rc.mode,
        f"{rc.mode}.user{i:07d}",
        name,
        email,
        ROLES[lane(r, 6) % len(ROLES)],
        created,
    )


def advisor_branch(rc: RowContext, i: int) -> str:
    """Branch of advisor ``i`` (also the branch of its customers' accounts)."""
    return f"{1 + lane(rc.draw['advisor'](i), 6) % 500:04d}"


def advisor(rc: RowContext, i: int, scenario: str | None = None) -> Row:
    r = rc.draw["advisor"](i)
    name, g, s = _raw_name(rc, r)
    created = rc.before(DAY + lane(r, 0) % (10 * YEAR))
    return (
        rc.tenant_id,
        rc.ids["advisor"](i),
        rc.mode,
        name,
        f"{g}.{s}{i}@banco.com.br",
        _raw_phone(r),
        advisor_branch(rc, i),
        created,
    )


def account_category(rc: RowContext, i: int, scenario: str | None = None) -> Row:
    kind, prefix, label, limit = CATEGORY_KINDS[i % len(CATEGORY_KINDS)]
    tier, factor = TIERS[(i // len(CATEGORY_KINDS)) % len(TIERS)]
    return (
        rc.tenant_id,
        rc.ids["account_category"](i),
        rc.mode,
        f"{prefix}-{i:06d}",
        f"{label} {tier}",
        kind,
        cents(limit * factor * 100),
    )


def supplier(rc: RowContext, i: int, scenario: str | None = None) -> Row:
    r = rc.draw["supplier"](i)
    # A permuted index, not a draw: 50 k suppliers in 10**8 bases would collide ~12 times.
    base = f"{rc.cnpj_bases.encrypt(plaintext(MODES[rc.mode], i)):08d}0001"
    return (
        rc.tenant_id,
        rc.ids["supplier"](i),
        rc.mode,
        rc.refs["account_category"](i % rc.n["account_category"]),
        rc.pools.companies[lane(r, 2) % len(rc.pools.companies)],
        base + cnpj_check_digits(base),
        rc.before(DAY + lane(r, 0) % (8 * YEAR)),
    )


def customer(rc: RowContext, i: int, scenario: str | None = None) -> Row:
    r = rc.draw["customer"](i)
    name, g, s = _raw_name(rc, r)
    base = f"{lane(r, 3) % 1_000_000_000:09d}"
    born = rc.as_of_date - timedelta(days=18 * 366 + lane(r, 6) % (60 * 365))
    # Customers exist before any of their accounts opens (accounts: <= 3 years + window).
    created = rc.before(int(TX_WINDOW.total_seconds()) + 3 * YEAR + DAY + lane(r, 0) % (7 * YEAR))
    return (
        rc.tenant_id,
        rc.ids["customer"](i),
        rc.mode,
        rc.refs["advisor"](i % rc.n["advisor"]),
        name,
        base + cpf_check_digits(base),
        f"{g}.{s}{i}@{FREE_MAIL[lane(r, 7) % len(FREE_MAIL)]}",
        _raw_phone(r),
        date(born.year, born.month, min(born.day, 28)),
        SEGMENTS[(lane(r, 7) >> 16) % len(SEGMENTS)],
        created,
    )


def address(rc: RowContext, i: int, scenario: str | None = None) -> Row:
    r = rc.draw["address"](i)
    n_customer = rc.n["customer"]
    # The first pass gives every customer a residential address; extra rows add others.
    kind = "residential" if i < n_customer else ADDRESS_KINDS[lane(r, 1) % len(ADDRESS_KINDS)]
    city, state = rc.pools.cities[lane(r, 2) % len(rc.pools.cities)]
    return (
        rc.tenant_id,
        rc.ids["address"](i),
        rc.mode,
        rc.refs["customer"](i % n_customer),
        kind,
        rc.pools.streets[lane(r, 3) % len(rc.pools.streets)],
        str(1 + lane(r, 4) % 4999),
        city,
        state,
        f"{lane(r, 5) % 100_000_000:08d}",
    )
