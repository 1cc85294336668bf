"""Property tests over random small specs: the invariants hold by construction."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factories.keys import Feistel, entity_key
from factories.planner import GeneratedBatch
from factories.spec import DatasetSpec, tenant_uuid
from seedbank.domain.models import DOMAIN_TABLES, table_name
from tests.unit.factories.support import OTHER_SALT, generate_all

FKS: dict[str, dict[str, str]] = {
    "supplier": {"category_id": "account_category"},
    "customer": {"advisor_id": "advisor"},
    "address": {"customer_id": "customer"},
    "bank_account": {"customer_id": "customer", "category_id": "account_category"},
    "credit_limit": {"account_id": "bank_account"},
    "contract": {"customer_id": "customer", "credit_limit_id": "credit_limit"},
    "loan": {"contract_id": "contract", "account_id": "bank_account"},
    "installment": {"loan_id": "loan"},
    "financial_transaction": {"account_id": "bank_account", "supplier_id": "supplier"},
}
WIDTHS = {
    table_name(m): {
        c.name: c.type.length
        for c in m.__table__.columns  # type: ignore[attr-defined]
        if getattr(c.type, "length", None)
    }
    for m in DOMAIN_TABLES
}
Rows = dict[str, list[dict[str, Any]]]


@st.composite
def specs(draw: st.DrawFn) -> DatasetSpec:
    n = {
        "app_user": draw(st.integers(0, 4)), "advisor": draw(st.integers(1, 4)),
        "account_category": draw(st.integers(1, 6)), "supplier": draw(st.integers(0, 5)),
        "customer": draw(st.integers(1, 15)), "address": draw(st.integers(0, 20)),
        "bank_account": draw(st.integers(1, 20)),
        "financial_transaction": draw(st.integers(0, 80)),
    }  # fmt: skip
    n["credit_limit"] = draw(st.integers(0, n["bank_account"]))
    n["contract"] = draw(st.integers(0, 20)) if n["credit_limit"] else 0
    n["loan"] = draw(st.integers(0, n["contract"]))
    term = draw(st.integers(1, 8))
    n["installment"] = n["loan"] * term
    offset = timezone(timedelta(hours=draw(st.integers(-12, 12))))
    naive = st.datetimes(datetime(2015, 1, 1), datetime(2035, 12, 31))  # noqa: DTZ001 - bounds
    as_of = draw(naive).replace(tzinfo=offset)
    return DatasetSpec(
        tenant=draw(st.sampled_from(["acme", "banco-sul", "x1"])),
        env=draw(st.sampled_from(["dev", "ci"])),
        mode=draw(st.sampled_from(["baseline", "load", "dr"])), as_of=as_of, counts=n,
        loan_term_months=term, manifest_digest="0" * 64,
    )  # fmt: skip


def _rows(batches: list[GeneratedBatch]) -> Rows:
    out: Rows = defaultdict(list)
    for b in batches:
        out[b.batch.entity] += [dict(zip(b.columns, r, strict=True)) for r in b.rows]
    return out


def _check_shape(spec: DatasetSpec, rows: Rows) -> None:
    tid = tenant_uuid(spec.env, spec.tenant)
    assert [r["tenant_id"] for r in rows["tenant"]] == [tid]
    all_ids: set[Any] = set()
    for entity, entity_rows in rows.items():
        assert len(entity_rows) == spec.count(entity)
        for r in entity_rows:
            assert r["tenant_id"] == tid
            for col, width in WIDTHS[entity].items():
                assert len(r[col]) <= width, (entity, col, r[col])
            for value in r.values():
                if isinstance(value, datetime):
                    assert value.utcoffset() is not None
                if isinstance(value, Decimal):
                    assert value.as_tuple().exponent in (-2, -6)
            if entity != "tenant":
                assert r["dataset"] == spec.mode
                all_ids.add(r["id"])
    assert len(all_ids) == sum(spec.count(e) for e in rows if e != "tenant")


def _check_integrity(rows: Rows) -> None:
    ids: dict[str, set[Any]] = defaultdict(set)
    for e, rs in rows.items():
        ids[e] = {r.get("id") for r in rs}
    for entity, fks in FKS.items():
        for r in rows.get(entity, []):
            for col, parent in fks.items():
                assert r[col] in ids[parent] or (col == "supplier_id" and r[col] is None)
    account = {r["id"]: r for r in rows["bank_account"]}
    limit = {r["id"]: r for r in rows.get("credit_limit", [])}
    contract = {r["id"]: r for r in rows.get("contract", [])}
    for c in rows.get("contract", []):
        assert c["customer_id"] == account[limit[c["credit_limit_id"]]["account_id"]]["customer_id"]
    for loan in rows.get("loan", []):
        assert (
            loan["account_id"]
            == limit[contract[loan["contract_id"]]["credit_limit_id"]]["account_id"]
        )
    for key in ("account_number", "contract_number"):
        entity = "bank_account" if key == "account_number" else "contract"
        numbers = [r[key] for r in rows.get(entity, [])]
        assert len(set(numbers)) == len(numbers)


def _check_banking(spec: DatasetSpec, rows: Rows) -> None:
    as_of = spec.as_of.astimezone(UTC)
    ledger: dict[Any, Decimal] = defaultdict(Decimal)
    opened = {r["id"]: r["opened_at"] for r in rows["bank_account"]}
    for t in rows.get("financial_transaction", []):
        assert t["amount"] > 0
        assert t["kind"] in ("credit", "debit")
        ledger[t["account_id"]] += t["amount"] if t["kind"] == "credit" else -t["amount"]
        assert opened[t["account_id"]] <= t["booked_at"] <= as_of
    for a in rows["bank_account"]:
        assert a["balance"] == ledger[a["id"]]
        assert (a["status"] == "overdrawn") == (a["balance"] < 0)
    for lim in rows.get("credit_limit", []):
        assert Decimal(0) <= lim["used"] <= lim["amount"]
        assert lim["valid_from"] <= as_of.date()
    by_loan: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for i in rows.get("installment", []):
        by_loan[i["loan_id"]].append(i)
    for loan in rows.get("loan", []):
        plan = sorted(by_loan[loan["id"]], key=lambda i: i["number"])
        _check_schedule(loan, plan, as_of.date(), spec.loan_term_months)


def _check_schedule(
    loan: dict[str, Any], plan: list[dict[str, Any]], today: date, term: int
) -> None:
    assert [i["number"] for i in plan] == list(range(1, term + 1))
    assert sum(i["principal_part"] for i in plan) == loan["principal"]
    assert plan[-1]["balance_after"] == 0
    balance = loan["principal"]
    for i in plan:
        assert i["amount"] == i["principal_part"] + i["interest_part"]
        assert i["principal_part"] > 0
        assert i["interest_part"] >= 0
        balance -= i["principal_part"]
        assert i["balance_after"] == balance
        assert (i["status"] == "pending") == (i["due_date"] >= today)
    assert len({i["amount"] for i in plan[:-1]}) <= 1  # Price table: fixed payment
    overdue = sum(i["status"] == "overdue" for i in plan)
    statuses = [i["status"] for i in plan]
    assert statuses == sorted(statuses, key=("paid", "overdue", "pending").index)
    expected = (
        "defaulted" if overdue >= 3 else "delinquent" if overdue else
        "paid_off" if statuses.count("paid") == term else "active"
    )  # fmt: skip
    assert loan["status"] == expected
    assert loan["disbursed_at"].date() < plan[0]["due_date"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(), batch_size=st.integers(1, 25))
def test_random_specs_keep_every_invariant(spec: DatasetSpec, batch_size: int) -> None:
    rows = _rows(generate_all(spec, batch_size, OTHER_SALT))
    _check_shape(spec, rows)
    _check_integrity(rows)
    _check_banking(spec, rows)


@settings(max_examples=15, deadline=None)
@given(spec=specs())
def test_business_numbers_never_collide_across_modes(spec: DatasetSpec) -> None:
    numbers: list[str] = []
    for mode in ("baseline", "load", "dr"):
        other = DatasetSpec(**{**spec.__dict__, "mode": mode, "counts": dict(spec.counts)})
        rows = _rows(generate_all(other, 50, OTHER_SALT))
        numbers += [r["account_number"] for r in rows["bank_account"]]
        numbers += [r["contract_number"] for r in rows.get("contract", [])]
    assert len(set(numbers)) == len(numbers)


@settings(max_examples=20, deadline=None)
@given(half=st.integers(1, 2), key=st.binary(min_size=1, max_size=16))
def test_feistel_is_a_permutation(half: int, key: bytes) -> None:
    perm = Feistel(entity_key("t", "e", "m", key.hex()), half)
    assert sorted(perm(x) for x in range(perm.domain)) == list(range(perm.domain))
