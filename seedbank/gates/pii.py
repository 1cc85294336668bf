"""Gate `pii` (FR-003, SC-002): every catalogued field of the dataset is proven masked by
the checker (with the salt), and every text column of the tenant is scanned for raw
PII: e-mails outside reserved domains, phones outside the reserved range, CPF-shaped
numbers the checker cannot prove. A finding names the cell, never the value.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from psycopg import sql
from sqlalchemy import String

from factories.keys import cpf_check_digits
from factories.pii import PII_CATALOG, PiiChecker
from seedbank.domain.models import DOMAIN_TABLES, table_name
from seedbank.gates.model import Failures, GateContext, GateResult
from seedbank.gates.proof import column_gaps, digest_proof
from seedbank.gates.rows import dataset_select, stream

# RFC 2606 / RFC 6761 names that can never be a real mailbox.
RESERVED_DOMAINS = frozenset({"example.com", "example.net", "example.org"})
RESERVED_SUFFIXES = (".example", ".invalid", ".test", ".localhost")
RESERVED_DDD = "00"  # no Brazilian area code is 00 (the masker's range)

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})")
# A CPF stands alone: not inside a longer number or an alphanumeric token (a masked
# e-mail's hex tag holds 11-digit runs, 1 in 100 with valid check digits).
CPF = re.compile(r"(?<![\w.])(\d{3})\.?(\d{3})\.?(\d{3})-?(\d{2})(?![\w-])")
PHONE = re.compile(
    r"\+55\s?\(?(\d{2})\)?\s?9?\d{4}-?\d{4}(?!\d)"  # +55 11 91234-5678
    r"|\((\d{2})\)\s?9?\d{4}-?\d{4}(?!\d)"  # (11) 91234-5678
    r"|(?<![\d+])(\d{2})\s9\d{4}-?\d{4}(?!\d)"  # 11 91234-5678
)
# Server-side pre-filter: only values with an '@' or a run of 8 digits reach Python.
PREFILTER = r"@|[0-9]{4}-?[0-9]{4}"
_PREFILTER = re.compile(PREFILTER)

# Text columns of the control tables that people or messages fill; digests, signatures
# and keys are machine-made hex/base64 and would only yield false CPF-shaped runs.
CONTROL_TEXT: dict[str, tuple[str, ...]] = {
    "seed_audit": ("reason", "actor"),
    "seed_lease": ("holder",),
}


def text_columns() -> dict[str, tuple[str, ...]]:
    columns: dict[str, tuple[str, ...]] = {
        table_name(m): tuple(
            c.name
            for c in m.__table__.columns  # type: ignore[attr-defined]
            if isinstance(c.type, String)
        )
        for m in DOMAIN_TABLES
    }
    return {**{t: c for t, c in columns.items() if c}, **CONTROL_TEXT}


def pii_gate(ctx: GateContext) -> GateResult:
    target = ctx.target
    failures = Failures()
    checker = (
        PiiChecker(ctx.salt, target.tenant, dataset_counts(ctx)) if ctx.salt is not None else None
    )
    proven = by_digest = 0
    figures: dict[str, Any] = {"method": "checker+scan"}
    # The tenant's other datasets are scanned whatever the read-back proves: first, while
    # it still folds in the background (the runner starts this gate before the others
    # that wait for it), not after it as one more serial scan.
    scanned, matched = _scan_text(ctx, checker, failures, part="others")
    # One pass: this dataset's rows digest-equal to the masker's output, every stored
    # column covered by the digest: the checker and the scan re-prove nothing there
    # (seedbank.gates.proof).
    digest = digest_proof(ctx) if checker is not None else None
    gaps = column_gaps(ctx) if digest is not None and digest.proven else None
    if gaps:
        figures["catalogue_gaps"] = gaps
    if gaps == []:
        by_digest = sum(len(f) * ctx.target.spec.count(e) for e, f in PII_CATALOG.items())
        figures |= {"method": "digest+catalogue, other datasets scanned"}
    else:
        if checker is not None:
            proven = _prove_catalog(ctx, checker, failures)
        this_scanned, this_matched = _scan_text(ctx, checker, failures, part="this")
        scanned, matched = scanned + this_scanned, matched + this_matched
    figures |= {
        "catalogued_fields": sum(len(f) for f in PII_CATALOG.values()),
        "values_proven": proven,
        "values_proven_by_digest": by_digest,
        "text_columns_scanned": sum(len(c) for c in text_columns().values()),
        "text_values_with_pii_shape": scanned,
        "pattern_hits": matched,
    }
    if checker is None and not failures.total:
        figures["failures_total"] = 0
        figures["reason"] = "no salt: the proof of catalogued fields needs the salt from Vault"
        return GateResult("pii", "skipped", figures)
    return failures.result("pii", figures)


def dataset_counts(ctx: GateContext) -> dict[str, dict[str, int]]:
    """Rows per dataset of each PII entity: the index bound of a business key's proof.

    This run's dataset is bounded by the manifest's counts; the tenant's other datasets
    (scanned for raw PII too) by the rows they hold.
    """
    counts: dict[str, dict[str, int]] = {}
    for entity in PII_CATALOG:
        rows = ctx.conn.execute(
            sql.SQL("SELECT dataset, count(*) FROM {} WHERE tenant_id = %s GROUP BY 1").format(
                sql.Identifier(entity)
            ),
            (ctx.target.tenant_id,),
        ).fetchall()
        for dataset, n in rows:
            counts.setdefault(str(dataset), {})[entity] = int(n)
    counts[ctx.target.mode] = {e: ctx.target.spec.count(e) for e in PII_CATALOG}
    return counts


def _prove_catalog(ctx: GateContext, checker: PiiChecker, failures: Failures) -> int:
    proven = 0
    for entity, fields in PII_CATALOG.items():
        names = tuple(fields)
        query, args = dataset_select(entity, ("id", *names), ctx.target)
        for chunk in stream(ctx.conn, query, args, name=f"pii_{entity}"):
            for row in chunk:
                for field, value in zip(names, row[1:], strict=True):
                    if checker.is_masked(entity, field, value):
                        proven += 1
                    else:
                        failures.add(
                            entity,
                            row[0],
                            field,
                            f"not proven masked by the checker (salt version"
                            f" {ctx.target.salt_version})",
                        )
    return proven


def _scan_text(
    ctx: GateContext,
    checker: PiiChecker | None,
    failures: Failures,
    *,
    part: Literal["others", "this"],
) -> tuple[int, int]:
    """Every text column of every table of the tenant, pre-filtered in SQL, in two parts:
    `others`, the rows of the datasets other than this one and the control tables;
    `this`, this dataset's rows and the tenant row (skipped when digest-proven).

    One scan per table and part: its text columns joined with a separator no pattern can
    span (\\x01) pass the pre-filter exactly when one of them would; Python then judges
    each column of the rows that passed. Catalogued cells of this dataset are left out
    when the checker has just proven each of them masked (a stronger proof than a pattern).
    """
    scanned = matched = 0
    proven = PII_CATALOG if checker is not None else {}
    for table, columns in text_columns().items():
        control, tenant_row = table in CONTROL_TEXT, table == "tenant"
        if (part == "others" and tenant_row) or (part == "this" and control):
            continue  # the tenant row belongs to this dataset; control tables to `others`
        key = "tenant_id" if table in ("tenant", "seed_lease") else "id"
        cells = [
            sql.SQL("CASE WHEN dataset = {} THEN NULL ELSE {} END").format(
                sql.Literal(ctx.target.mode), sql.Identifier(c)
            )
            if c in proven.get(table, ())
            else sql.Identifier(c)
            for c in columns
        ]
        datasets: sql.Composable = sql.SQL("")
        if not control and not tenant_row:
            op = sql.SQL("<>" if part == "others" else "=")
            datasets = sql.SQL(" AND dataset {} {}").format(op, sql.Literal(ctx.target.mode))
        query = sql.SQL(
            "SELECT {key}, {cells} FROM {table} WHERE tenant_id = %s{datasets}"
            " AND concat_ws(chr(1), {cells}) ~ %s"
        ).format(
            key=sql.Identifier(key),
            cells=sql.SQL(", ").join(cells),
            table=sql.Identifier(table),
            datasets=datasets,
        )
        args = (ctx.target.tenant_id, PREFILTER)
        for chunk in stream(ctx.conn, query, args, name=f"scan_{part}_{table}"):
            for row_id, *values in chunk:
                for column, value in zip(columns, values, strict=True):
                    if value is None or not _PREFILTER.search(str(value)):
                        continue
                    scanned += 1
                    reason = raw_pii(str(value), checker)
                    if reason is not None:
                        matched += 1
                        failures.add(table, row_id, column, reason)
    return scanned, matched


def raw_pii(text: str, checker: PiiChecker | None) -> str | None:
    """Why `text` holds raw PII, or None; the reason names the kind, never the value."""
    for m in EMAIL.finditer(text):
        domain = m[1].lower()
        if domain not in RESERVED_DOMAINS and not domain.endswith(RESERVED_SUFFIXES):
            return "holds an e-mail address outside the reserved domains"
    for m in PHONE.finditer(text):
        ddd = m[1] or m[2] or m[3]
        if ddd != RESERVED_DDD:
            return "holds a phone number outside the reserved range"
    if checker is not None:
        for m in CPF.finditer(text):
            digits = "".join(m.groups())
            if len(set(digits[:9])) == 1 or cpf_check_digits(digits[:9]) != digits[9:]:
                continue  # not a valid CPF: just a number
            if not checker.is_masked("customer", "cpf", digits):
                return "holds a valid CPF the checker cannot prove masked"
    return None
