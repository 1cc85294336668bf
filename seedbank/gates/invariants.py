"""Gate `invariants`: the banking rules the generator guarantees, checked in SQL.

- an account's balance is the signed sum of its transactions (credit +, debit -), and
  it is `overdrawn` exactly when that sum is negative;
- every transaction is a credit or a debit of a positive amount;
- a loan has `term_months` installments numbered 1..term; their principal parts sum to
  the principal, each balance_after is the principal less the parts paid so far, the
  last is 0, and amount = principal part + interest part;
- a credit limit's utilisation is within it: 0 <= used <= amount.
(The factories' sad-path traits break these on purpose; seeded datasets never use them.)

One pass (issue 17): when the read-back proves this dataset's rows are exactly the rows
this run generated (`seedbank.gates.proof.digest_proof`), the rules hold by the
generator's construction, which the property tests prove for every generated dataset
(`tests/unit/factories/test_properties.py`, row and columnar encoders byte-equal): the
gate then reads no table again. Without that proof (`verify` after the run, a changed,
missing or extra row) it scans, and names the breaking rows.
"""

from __future__ import annotations

from typing import Any

from psycopg import sql

from seedbank.gates.model import Failures, GateContext, GateResult
from seedbank.gates.proof import digest_proof
from seedbank.gates.readback import read_back

LIMIT = 50

# (entity, field, query returning ids of breaking rows, what the rule is); queries
# take the named parameters t (tenant id) and m (the mode's dataset).
RULES: tuple[tuple[str, str, sql.SQL, str], ...] = (
    (
        "bank_account",
        "balance",
        sql.SQL(
            "SELECT a.id FROM bank_account a LEFT JOIN ("
            " SELECT account_id, sum(CASE kind WHEN 'credit' THEN amount ELSE -amount END) s"
            " FROM financial_transaction WHERE tenant_id = %(t)s AND dataset = %(m)s"
            " GROUP BY account_id) x ON x.account_id = a.id"
            " WHERE a.tenant_id = %(t)s AND a.dataset = %(m)s AND a.balance <> coalesce(x.s, 0)"
        ),
        "is not the signed sum of the account's transactions",
    ),
    (
        "bank_account",
        "status",
        sql.SQL(
            "SELECT id FROM bank_account WHERE tenant_id = %(t)s AND dataset = %(m)s"
            " AND (status = 'overdrawn') <> (balance < 0)"
        ),
        "must be overdrawn exactly when the balance is negative",
    ),
    (
        "financial_transaction",
        "kind",
        sql.SQL(
            "SELECT id FROM financial_transaction WHERE tenant_id = %(t)s AND dataset = %(m)s"
            " AND (kind NOT IN ('credit', 'debit') OR amount <= 0)"
        ),
        "must be a credit or a debit of a positive amount",
    ),
    (
        "loan",
        "term_months",
        sql.SQL(
            "SELECT l.id FROM loan l LEFT JOIN ("
            " SELECT loan_id, count(*) n, count(DISTINCT number) d, min(number) lo,"
            " max(number) hi FROM installment WHERE tenant_id = %(t)s AND dataset = %(m)s"
            " GROUP BY loan_id) i ON i.loan_id = l.id"
            " WHERE l.tenant_id = %(t)s AND l.dataset = %(m)s AND NOT (coalesce(i.n, 0)"
            " = l.term_months AND i.d = i.n AND i.lo = 1 AND i.hi = l.term_months)"
        ),
        "does not have exactly one installment numbered 1..term_months per month",
    ),
    (
        "loan",
        "principal",
        sql.SQL(
            "SELECT l.id FROM loan l JOIN ("
            " SELECT loan_id, sum(principal_part) p FROM installment"
            " WHERE tenant_id = %(t)s AND dataset = %(m)s GROUP BY loan_id) i"
            " ON i.loan_id = l.id WHERE l.tenant_id = %(t)s AND l.dataset = %(m)s"
            " AND i.p <> l.principal"
        ),
        "is not the sum of its installments' principal parts",
    ),
    (
        "installment",
        "balance_after",
        sql.SQL(
            "SELECT i.id FROM (SELECT id, loan_id, number, balance_after, sum(principal_part)"
            " OVER (PARTITION BY loan_id ORDER BY number) paid FROM installment"
            " WHERE tenant_id = %(t)s AND dataset = %(m)s) i JOIN loan l"
            " ON l.tenant_id = %(t)s AND l.id = i.loan_id"
            " WHERE i.balance_after <> l.principal - i.paid"
            " OR (i.number = l.term_months AND i.balance_after <> 0)"
        ),
        "is not the principal less the principal parts paid so far (0 after the last)",
    ),
    (
        "installment",
        "amount",
        sql.SQL(
            "SELECT id FROM installment WHERE tenant_id = %(t)s AND dataset = %(m)s"
            " AND (amount <> principal_part + interest_part OR principal_part < 0"
            " OR interest_part < 0)"
        ),
        "is not its principal part plus its interest part (both non-negative)",
    ),
    (
        "credit_limit",
        "used",
        sql.SQL(
            "SELECT id FROM credit_limit WHERE tenant_id = %(t)s AND dataset = %(m)s"
            " AND NOT (used >= 0 AND used <= amount)"
        ),
        "is outside the limit (0 <= used <= amount)",
    ),
)

SUMMARY = sql.SQL(
    "WITH ft AS MATERIALIZED (SELECT account_id,"
    " sum(CASE kind WHEN 'credit' THEN amount ELSE -amount END) s, count(*) n,"
    " count(*) FILTER (WHERE kind NOT IN ('credit', 'debit') OR amount <= 0) bad"
    " FROM financial_transaction WHERE tenant_id = %(t)s AND dataset = %(m)s GROUP BY account_id),"
    " acc AS MATERIALIZED (SELECT a.balance, a.status, x.s FROM bank_account a LEFT JOIN ft x"
    " ON x.account_id = a.id WHERE a.tenant_id = %(t)s AND a.dataset = %(m)s),"
    " ins AS MATERIALIZED (SELECT loan_id, count(*) n, count(DISTINCT number) d, min(number) lo,"
    " max(number) hi, sum(principal_part) p, count(*) FILTER (WHERE amount <> principal_part"
    " + interest_part OR principal_part < 0 OR interest_part < 0) bad FROM installment"
    " WHERE tenant_id = %(t)s AND dataset = %(m)s GROUP BY loan_id),"
    " ln AS MATERIALIZED (SELECT l.term_months, l.principal, i.n, i.d, i.lo, i.hi, i.p FROM loan l"
    " LEFT JOIN ins i ON i.loan_id = l.id WHERE l.tenant_id = %(t)s AND l.dataset = %(m)s),"
    " cl AS MATERIALIZED (SELECT count(*) n, count(*) FILTER (WHERE NOT (used >= 0"
    " AND used <= amount)) bad FROM credit_limit WHERE tenant_id = %(t)s AND dataset = %(m)s)"
    " SELECT (SELECT count(*) FILTER (WHERE balance <> coalesce(s, 0)) FROM acc),"
    " (SELECT count(*) FILTER (WHERE (status = 'overdrawn') <> (balance < 0)) FROM acc),"
    " (SELECT coalesce(sum(bad), 0) FROM ft),"
    " (SELECT count(*) FILTER (WHERE NOT (coalesce(n, 0) = term_months AND d = n AND lo = 1"
    " AND hi = term_months)) FROM ln),"
    " (SELECT count(*) FILTER (WHERE p <> principal) FROM ln),"
    " NULL,"
    " (SELECT coalesce(sum(bad), 0) FROM ins),"
    " (SELECT bad FROM cl),"
    " (SELECT count(*) FROM acc), (SELECT coalesce(sum(n), 0) FROM ft), (SELECT count(*) FROM ln),"
    " (SELECT coalesce(sum(n), 0) FROM ins), (SELECT n FROM cl)"
)
"""One pass over each table: per rule, how many rows break it (in the order of RULES;
NULL where only the rule's own query can tell), then the figures' counts. A rule's
query, which names the rows, runs only when its count is not zero: on a sound dataset
the gate reads financial_transaction once instead of three times."""


def invariants_gate(ctx: GateContext) -> GateResult:
    digest = digest_proof(ctx)
    if digest.proven:
        found = read_back(ctx).counts
        figures = _figures([found[entity] for entity in _COUNTED.values()])
        return Failures().result(
            "invariants", figures | {"method": "digest+generator", "proof": digest.reason}
        )
    return _scan(ctx)


_COUNTED = {
    "accounts": "bank_account",
    "transactions": "financial_transaction",
    "loans": "loan",
    "installments": "installment",
    "credit_limits": "credit_limit",
}
"""The gate's row-count figures, in the order SUMMARY returns them after the rules."""


def _figures(counts: list[int]) -> dict[str, Any]:
    return {"rules": len(RULES), **dict(zip(_COUNTED, counts, strict=True))}


def _scan(ctx: GateContext) -> GateResult:
    params = {"t": ctx.target.tenant_id, "m": ctx.target.mode}
    failures = Failures()
    broken: dict[str, int] = {}
    summary = ctx.conn.execute(SUMMARY, params).fetchone()
    if summary is None or len(summary) != len(RULES) + 5:
        raise RuntimeError("the invariants summary returned no row")  # a bug of ours
    for (entity, field, query, rule), count in zip(RULES, summary, strict=False):
        if count is not None and int(count) == 0:
            broken[f"{entity}.{field}"] = 0
            continue
        rows = ctx.conn.execute(
            query + sql.SQL(" LIMIT {}").format(sql.Literal(LIMIT)), params
        ).fetchall()
        broken[f"{entity}.{field}"] = len(rows)
        for (row_id,) in rows:
            failures.add(entity, row_id, field, rule)
    figures = _figures([int(c) for c in summary[len(RULES) :]])
    return failures.result(
        "invariants", figures | {"broken_rows_by_rule": broken, "method": "scan"}
    )
