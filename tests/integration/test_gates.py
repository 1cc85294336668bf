"""The verification gates against real PostgreSQL: a clean dataset passes, each kind of
tampering fails the right gate naming entity, row id and field, never the value.

The dataset is seeded once per module in-process (the dry-run write path, committed);
most tampering happens inside the gates' own transaction and is rolled back with it.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

from factories.digest import combine_folds
from factories.spec import GENERATOR_VERSION
from seedbank.adapters.postgres import bind_tenant
from seedbank.adapters.profiles import load_profile
from seedbank.adapters.vault import Salt
from seedbank.gates import GateResult, GateTarget, run_gates
from seedbank.services.seeding import stages
from tests.support.databases import ScratchDatabase
from tests.support.world import write_profile

RAW_EMAIL = "maria.silva@gmail.com"


@dataclass(frozen=True)
class Seeded:
    db: ScratchDatabase
    target: GateTarget
    salt: bytes


@pytest.fixture(scope="module")
def seeded(database: ScratchDatabase, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    tenant = f"t-{secrets.token_hex(5)}"
    root = tmp_path_factory.mktemp("profiles")
    write_profile(root, env="dev", tenant=tenant)
    manifest = load_profile(root, env="dev", tenant=tenant).manifest
    run = stages.new_run(manifest, dry_run=True, actor="test")
    run.salt = Salt(version=manifest.pii.salt_version, value=secrets.token_bytes(32))
    with psycopg.connect(database.app_url) as conn, conn.transaction():
        bind_tenant(conn, run.ctx.tenant_id)
        stages.seed_in_transaction(run, conn)
    folds: dict[str, int] = {}
    for b in run.batches:
        folds[b["entity"]] = combine_folds((folds.get(b["entity"], 0), int(b["fold"], 16)))
    target = GateTarget(
        spec=run.ctx.spec,
        salt_version=manifest.pii.salt_version,
        run_id=run.ctx.run_id,
        generated_folds=folds,
        audit_url=database.app_url,
        actor="test",
        reader_url=database.app_url,
    )
    return Seeded(database, target, run.salt.value)


def gates(
    s: Seeded, *tamper: str, target: GateTarget | None = None, salt: bytes | None = b""
) -> dict[str, GateResult]:
    """Every gate over the dataset after `tamper` statements (all rolled back after)."""
    with psycopg.connect(s.db.app_url) as conn, conn.transaction(force_rollback=True):
        bind_tenant(conn, s.target.tenant_id)
        for statement in tamper:
            conn.execute(statement.replace(":t", f"'{s.target.tenant_id}'"))
        results = run_gates(conn, target or s.target, salt=s.salt if salt == b"" else salt)
    return {r.name: r for r in results}


def one_id(s: Seeded, statement: str) -> str:
    with psycopg.connect(s.db.app_url) as conn:
        bind_tenant(conn, s.target.tenant_id)
        row = conn.execute(statement, (s.target.tenant_id,)).fetchone()
    assert row is not None
    return str(row[0])


def cells(result: GateResult) -> set[tuple[str, str | None, str | None]]:
    return {(f.entity, f.row_id, f.field) for f in result.failures}


def test_a_clean_dataset_passes_every_gate(seeded: Seeded) -> None:
    results = gates(seeded)
    assert list(results) == [
        "counts",
        "referential",
        "rls-probe",
        "pii",
        "contract",
        "invariants",
        "determinism",
        "api-smoke",
    ]
    for name, result in results.items():
        expected = "skipped" if name == "api-smoke" else "passed"
        assert result.status == expected, (name, result.failures)
    spec = seeded.target.spec
    assert results["counts"].figures["rows"] == sum(spec.count(e) for e in spec.counts) + 1
    # app_user 2 + advisor 3 + customer 5 + address 2 catalogued fields per row
    proven = 2 * spec.count("app_user") + 3 * spec.count("advisor") + 5 * spec.count("customer")
    # The digest proves this dataset's catalogued cells (issue 17): the checker re-proves none.
    assert results["pii"].figures["values_proven_by_digest"] == proven + 2 * spec.count("address")
    assert results["pii"].figures["values_proven"] == 0
    assert results["rls-probe"].figures["writes_refused"] == 18
    assert results["contract"].figures["validated"] > 0
    assert results["invariants"].figures["loans"] == spec.count("loan")
    # Committed rows, a read-only gate transaction: the fold is split over two connections.
    assert results["counts"].figures["read_lanes"] == 2
    assert results["determinism"].figures["stored_digest"] == seeded.target.generated_digest
    # One pass: the read-back proved the rows, the catalogue the constraints (issue 17).
    assert results["referential"].figures["method"] == "digest+catalogue"
    assert results["invariants"].figures["method"] == "digest+generator"


def test_a_gate_transaction_that_wrote_reads_back_on_its_own_connection(seeded: Seeded) -> None:
    # Another connection could not see this transaction's rows: one lane, the tamper found.
    results = gates(
        seeded,
        "UPDATE financial_transaction SET amount = amount + 0.01 WHERE tenant_id = :t AND id ="
        " (SELECT id FROM financial_transaction WHERE tenant_id = :t ORDER BY id DESC LIMIT 1)",
    )
    assert results["counts"].figures["read_lanes"] == 1
    assert cells(results["determinism"]) == {("financial_transaction", None, None)}


@pytest.mark.parametrize("half", ["<", ">="])
def test_a_committed_change_in_either_half_fails_determinism(seeded: Seeded, half: str) -> None:
    """Each lane folds half of the ids: a change on either side must show."""
    where = f"tenant_id = %s AND id {half} '80000000-0000-0000-0000-000000000000'"
    tx = one_id(seeded, f"SELECT id FROM financial_transaction WHERE {where} LIMIT 1")
    with psycopg.connect(seeded.db.admin_url, autocommit=True) as admin:
        (amount,) = admin.execute(
            "SELECT amount FROM financial_transaction WHERE id = %s", (tx,)
        ).fetchone() or (None,)
        admin.execute(
            "UPDATE financial_transaction SET amount = amount + 0.01 WHERE id = %s", (tx,)
        )
        try:
            results = gates(seeded)
        finally:
            admin.execute(
                "UPDATE financial_transaction SET amount = %s WHERE id = %s", (amount, tx)
            )
    assert results["counts"].figures["read_lanes"] == 2
    assert results["determinism"].status == "failed"
    assert cells(results["determinism"]) >= {("financial_transaction", None, None)}
    assert gates(seeded)["determinism"].status == "passed"


def test_an_unmasked_email_fails_pii_naming_the_cell_never_the_value(seeded: Seeded) -> None:
    customer = one_id(seeded, "SELECT id FROM customer WHERE tenant_id = %s ORDER BY id LIMIT 1")
    results = gates(seeded, f"UPDATE customer SET email = '{RAW_EMAIL}' WHERE id = '{customer}'")
    assert results["pii"].status == "failed"
    assert results["pii"].figures["method"] == "checker+scan"  # the digest no longer proves it
    assert cells(results["pii"]) == {("customer", customer, "email")}
    assert results["determinism"].status == "failed"
    assert ("customer", None, None) in cells(results["determinism"])
    dumped = json.dumps([r.as_dict() for r in results.values()])
    assert "maria" not in dumped
    assert "gmail" not in dumped


def test_raw_pii_in_free_text_is_found_by_the_scan(seeded: Seeded) -> None:
    tx = one_id(seeded, "SELECT id FROM financial_transaction WHERE tenant_id = %s LIMIT 1")
    results = gates(
        seeded,
        "UPDATE financial_transaction SET description = 'PIX para +55 11 91234-5678'"
        f" WHERE id = '{tx}'",
    )
    assert cells(results["pii"]) == {("financial_transaction", tx, "description")}
    assert "91234" not in json.dumps(results["pii"].as_dict())


def test_raw_pii_in_another_dataset_fails_pii_though_this_one_is_digest_proven(
    seeded: Seeded,
) -> None:
    """The scan of the tenant's other datasets runs whatever the digest proves (it runs
    first, while the read-back folds): a raw phone in a `load` row is found."""
    tx = one_id(seeded, "SELECT id FROM financial_transaction WHERE tenant_id = %s LIMIT 1")
    other = str(uuid.uuid4())
    results = gates(
        seeded,
        "INSERT INTO financial_transaction SELECT tenant_id, "
        f"'{other}', 'load', account_id, supplier_id, kind, amount,"
        " 'PIX para +55 11 91234-5678', booked_at FROM financial_transaction"
        f" WHERE id = '{tx}'",
    )
    pii = results["pii"]
    assert pii.figures["method"] == "digest+catalogue, other datasets scanned"
    assert pii.status == "failed"
    assert cells(pii) == {("financial_transaction", other, "description")}
    assert results["determinism"].status == "passed"  # this dataset is untouched
    assert "91234" not in json.dumps(pii.as_dict())


def test_a_column_the_digest_does_not_cover_sends_pii_back_to_the_checker(
    seeded: Seeded,
) -> None:
    """A stored column the generator does not know (so the digest cannot prove it) is a
    catalogue gap: the checker proves every catalogued value again."""
    with psycopg.connect(seeded.db.admin_url) as admin:
        admin.execute("ALTER TABLE customer ADD COLUMN notes text")
    try:
        results = gates(seeded)
    finally:
        with psycopg.connect(seeded.db.admin_url) as admin:
            admin.execute("ALTER TABLE customer DROP COLUMN notes")
    pii = results["pii"]
    assert pii.figures["method"] == "checker+scan"
    assert pii.figures["catalogue_gaps"] == ["customer.notes"]
    assert pii.figures["values_proven"] > 0
    assert pii.status == "passed"


def test_without_the_salt_the_pii_gate_is_skipped_not_passed(seeded: Seeded) -> None:
    results = gates(seeded, salt=None)
    assert results["pii"].status == "skipped"
    assert "salt" in results["pii"].figures["reason"]


def test_a_balance_off_the_ledger_fails_invariants(seeded: Seeded) -> None:
    account = one_id(
        seeded, "SELECT id FROM bank_account WHERE tenant_id = %s AND balance > 0 LIMIT 1"
    )
    results = gates(seeded, f"UPDATE bank_account SET balance = balance + 1 WHERE id = '{account}'")
    assert cells(results["invariants"]) == {("bank_account", account, "balance")}
    assert results["invariants"].figures["method"] == "scan"  # the digest no longer proves it


def test_broken_amortisation_and_utilisation_fail_invariants(seeded: Seeded) -> None:
    inst = one_id(seeded, "SELECT id FROM installment WHERE tenant_id = %s AND number = 1 LIMIT 1")
    loan = one_id(seeded, f"SELECT loan_id FROM installment WHERE tenant_id = %s AND id = '{inst}'")
    limit = one_id(seeded, "SELECT id FROM credit_limit WHERE tenant_id = %s LIMIT 1")
    results = gates(
        seeded,
        f"UPDATE installment SET principal_part = principal_part + 0.01 WHERE id = '{inst}'",
        f"UPDATE credit_limit SET used = amount + 1 WHERE id = '{limit}'",
    )
    found = cells(results["invariants"])
    assert ("loan", loan, "principal") in found
    assert ("installment", inst, "amount") in found
    assert ("installment", inst, "balance_after") in found
    assert ("credit_limit", limit, "used") in found


def test_a_committed_break_of_the_amortisation_fails_invariants_on_the_reader_path(
    seeded: Seeded,
) -> None:
    """Committed, so the read-back runs on the two reader lanes while invariants waits for
    its proof: the digest refuses it, and the gate scans and names the rows."""
    inst = one_id(seeded, "SELECT id FROM installment WHERE tenant_id = %s AND number = 2 LIMIT 1")
    loan = one_id(seeded, f"SELECT loan_id FROM installment WHERE tenant_id = %s AND id = '{inst}'")
    with psycopg.connect(seeded.db.admin_url, autocommit=True) as admin:
        admin.execute(
            "UPDATE installment SET principal_part = principal_part + 0.01,"
            " amount = amount + 0.01 WHERE id = %s",
            (inst,),
        )
        try:
            results = gates(seeded)
        finally:
            admin.execute(
                "UPDATE installment SET principal_part = principal_part - 0.01,"
                " amount = amount - 0.01 WHERE id = %s",
                (inst,),
            )
    invariants = results["invariants"]
    assert results["counts"].figures["read_lanes"] == 2
    assert invariants.figures["method"] == "scan"
    assert invariants.status == "failed"
    # amount still equals its parts; the loan's sum and this and later balances do not
    assert ("loan", loan, "principal") in cells(invariants)
    assert ("installment", inst, "balance_after") in cells(invariants)
    assert ("installment", inst, "amount") not in cells(invariants)
    assert invariants.figures["broken_rows_by_rule"]["installment.amount"] == 0
    assert gates(seeded)["invariants"].figures["method"] == "digest+generator"


def test_without_this_runs_generator_folds_invariants_scans(seeded: Seeded) -> None:
    """`verify` after the run has no generator folds: nothing proves the rows, so it scans."""
    later = dataclasses.replace(seeded.target, generated_folds=None)
    invariants = gates(seeded, target=later)["invariants"]
    assert invariants.figures["method"] == "scan"
    assert invariants.status == "passed"
    assert invariants.figures["broken_rows_by_rule"]["bank_account.balance"] == 0


def test_a_status_outside_the_enum_fails_the_contract(seeded: Seeded) -> None:
    account = one_id(
        seeded,
        "SELECT id FROM bank_account WHERE tenant_id = %s AND status = 'active' ORDER BY id"
        " LIMIT 1",
    )
    results = gates(seeded, f"UPDATE bank_account SET status = 'frozen' WHERE id = '{account}'")
    assert results["contract"].status == "failed"
    assert cells(results["contract"]) == {("bank_account", account, "status")}
    assert results["invariants"].status == "passed"


def test_a_missing_row_fails_counts(seeded: Seeded) -> None:
    results = gates(
        seeded,
        "DELETE FROM financial_transaction WHERE id = (SELECT id FROM financial_transaction"
        " WHERE tenant_id = :t ORDER BY id LIMIT 1)",
    )
    assert results["counts"].status == "failed"
    assert cells(results["counts"]) == {("financial_transaction", None, None)}
    assert "2999 rows" in results["counts"].failures[0].reason


@pytest.fixture
def cross_tenant_parent(seeded: Seeded) -> Iterator[tuple[str, str]]:
    """A customer of the tenant pointed at an advisor of another tenant, forced by the
    superuser with foreign-key triggers off (replica mode); restored afterwards."""
    other = uuid.uuid4()
    stranger = uuid.uuid4()
    customer = one_id(seeded, "SELECT id FROM customer WHERE tenant_id = %s ORDER BY id LIMIT 1")
    tenant = seeded.target.tenant_id
    with psycopg.connect(seeded.db.admin_url) as admin:
        original = admin.execute(
            "SELECT advisor_id FROM customer WHERE tenant_id = %s AND id = %s", (tenant, customer)
        ).fetchone()
        assert original is not None
        admin.execute(
            "INSERT INTO tenant SELECT %s, 'other-bank', env, name, created_at FROM tenant"
            " WHERE tenant_id = %s",
            (other, tenant),
        )
        admin.execute(
            "INSERT INTO advisor SELECT %s, %s, dataset, full_name, email, phone, branch_code,"
            " created_at FROM advisor WHERE tenant_id = %s LIMIT 1",
            (other, stranger, tenant),
        )
        admin.execute("SET session_replication_role = replica")
        admin.execute(
            "UPDATE customer SET advisor_id = %s WHERE tenant_id = %s AND id = %s",
            (stranger, tenant, customer),
        )
    try:
        yield customer, str(stranger)
    finally:
        with psycopg.connect(seeded.db.admin_url) as admin:
            admin.execute(
                "UPDATE customer SET advisor_id = %s WHERE tenant_id = %s AND id = %s",
                (original[0], tenant, customer),
            )
            admin.execute("DELETE FROM advisor WHERE tenant_id = %s", (other,))
            admin.execute("DELETE FROM tenant WHERE tenant_id = %s", (other,))


def test_a_cross_tenant_parent_fails_referential(
    seeded: Seeded, cross_tenant_parent: tuple[str, str]
) -> None:
    customer, _ = cross_tenant_parent
    results = gates(seeded)
    assert results["referential"].status == "failed"
    assert cells(results["referential"]) == {("customer", customer, "advisor_id")}
    assert "cross-tenant" in results["referential"].failures[0].reason
    assert results["rls-probe"].status == "passed"  # the other tenant's rows stay invisible


def test_a_loan_on_another_account_than_its_credit_limit_fails_referential(
    seeded: Seeded,
) -> None:
    loan = one_id(seeded, "SELECT id FROM loan WHERE tenant_id = %s ORDER BY id LIMIT 1")
    results = gates(
        seeded,
        "UPDATE loan SET account_id = (SELECT id FROM bank_account WHERE tenant_id = :t"
        f" AND id <> loan.account_id ORDER BY id LIMIT 1) WHERE id = '{loan}'",
    )
    assert cells(results["referential"]) == {("loan", loan, "account_id")}
    assert "credit limit" in results["referential"].failures[0].reason
    assert results["referential"].figures["method"] == "scan"  # the digest no longer proves it


def test_another_tenants_rows_visible_fail_referential_though_the_digest_is_equal(
    seeded: Seeded,
) -> None:
    """The dataset's own rows are untouched (the digest proves them), but a table whose RLS
    was switched off shows another tenant's row: the catalogue proof refuses, the scan
    fails the gate."""
    other, tenant = uuid.uuid4(), seeded.target.tenant_id
    with psycopg.connect(seeded.db.admin_url) as admin:
        admin.execute(
            "INSERT INTO tenant SELECT %s, 'other-bank', env, name, created_at FROM tenant"
            " WHERE tenant_id = %s",
            (other, tenant),
        )
        admin.execute(
            "INSERT INTO advisor SELECT %s, %s, dataset, full_name, email, phone, branch_code,"
            " created_at FROM advisor WHERE tenant_id = %s LIMIT 1",
            (other, uuid.uuid4(), tenant),
        )
        admin.execute("ALTER TABLE advisor DISABLE ROW LEVEL SECURITY")
    try:
        results = gates(seeded)
    finally:
        with psycopg.connect(seeded.db.admin_url) as admin:
            admin.execute("ALTER TABLE advisor ENABLE ROW LEVEL SECURITY")
            admin.execute("DELETE FROM advisor WHERE tenant_id = %s", (other,))
            admin.execute("DELETE FROM tenant WHERE tenant_id = %s", (other,))
    referential = results["referential"]
    assert results["determinism"].status == "passed"
    assert referential.figures["method"] == "scan"
    assert referential.figures["catalogue_gaps"] == ["advisor"]
    assert referential.status == "failed"
    assert cells(referential) == {("advisor", None, "tenant_id")}


def test_a_disabled_foreign_key_trigger_is_a_catalogue_gap_the_scan_covers(
    seeded: Seeded,
) -> None:
    with psycopg.connect(seeded.db.admin_url) as admin:
        admin.execute("ALTER TABLE customer DISABLE TRIGGER ALL")
    try:
        results = gates(seeded)
    finally:
        with psycopg.connect(seeded.db.admin_url) as admin:
            admin.execute("ALTER TABLE customer ENABLE TRIGGER ALL")
    referential = results["referential"]
    assert referential.figures["method"] == "scan"
    assert "customer.advisor_id -> advisor" in referential.figures["catalogue_gaps"]
    assert referential.status == "passed"  # the rows themselves are sound


def test_the_rls_probe_refusal_is_audited_without_pii(seeded: Seeded) -> None:
    results = gates(seeded)
    probe = results["rls-probe"]
    assert probe.status == "passed"
    with psycopg.connect(seeded.db.app_url) as conn:
        bind_tenant(conn, seeded.target.tenant_id)
        row = conn.execute(
            "SELECT event, outcome, reason, detail FROM seed_audit WHERE tenant_id = %s"
            " AND id = %s",
            (seeded.target.tenant_id, probe.figures["audit_id"]),
        ).fetchone()
    assert row is not None
    event, outcome, reason, detail = row
    assert (event, outcome) == ("rls_probe_refused", "refused")
    assert "18 cross-tenant writes" in reason
    assert detail["sqlstate"] == "42501"
    assert len(detail["tables"]) == 18
    assert detail["probe_tenant_id"] != str(seeded.target.tenant_id)


def test_the_rls_probe_fails_on_a_connection_that_bypasses_rls(seeded: Seeded) -> None:
    with psycopg.connect(seeded.db.admin_url) as conn, conn.transaction(force_rollback=True):
        bind_tenant(conn, seeded.target.tenant_id)
        (probe,) = run_gates(conn, seeded.target, salt=seeded.salt, only=["rls-probe"])
    assert probe.status == "failed"
    assert "bypasses row-level security" in probe.failures[0].reason


def test_determinism_compares_with_the_last_successful_run(seeded: Seeded) -> None:
    later = GateTarget(spec=seeded.target.spec, salt_version=seeded.target.salt_version)
    assert gates(seeded, target=later)["determinism"].status == "skipped"
    previous = uuid.uuid4()
    fingerprint = Salt(seeded.target.salt_version, seeded.salt).fingerprint
    record = (
        "INSERT INTO seed_run (tenant_id, id, env, tenant, mode, status, dry_run,"
        " manifest_digest, salt_version, salt_fingerprint, manifest, dataset_digest,"
        f" started_at, finished_at, generator_version) VALUES (:t, '{previous}', 'dev',"
        f" '{seeded.target.tenant}', 'baseline', 'succeeded', false,"
        f" '{seeded.target.spec.manifest_digest}', {seeded.target.salt_version},"
        f" '{{fingerprint}}', '{{}}', '{{digest}}', now(), now(), '{GENERATOR_VERSION}')"
    )
    stored = gates(seeded)["determinism"].figures["stored_digest"]
    mine = record.replace("{fingerprint}", fingerprint)
    same = gates(seeded, mine.replace("{digest}", stored), target=later)["determinism"]
    assert same.status == "passed"
    assert same.figures["previous_run_id"] == str(previous)
    other = gates(seeded, mine.replace("{digest}", "0" * 64), target=later)["determinism"]
    assert other.status == "failed"
    assert cells(other) == {("seed_run", str(previous), "dataset_digest")}
    # Same version number, another salt value (a dev Vault that lost its data): that run's
    # rows were other rows, so it is no reference — neither a pass nor a failure.
    lost = record.replace("{fingerprint}", "0" * 16).replace("{digest}", "0" * 64)
    unrelated = gates(seeded, lost, target=later)["determinism"]
    assert unrelated.status == "skipped"
    assert unrelated.figures["previous_run_id"] is None
    # A run of another dataset format (before issue 14's keys) made other rows: no reference.
    older = mine.replace("{digest}", "0" * 64).replace(f"'{GENERATOR_VERSION}'", "'2025.1'")
    assert gates(seeded, older, target=later)["determinism"].status == "skipped"


def test_run_gates_refuses_a_connection_outside_a_transaction(seeded: Seeded) -> None:
    with (
        psycopg.connect(seeded.db.app_url, autocommit=True) as conn,
        pytest.raises(ValueError, match="tenant-bound transaction"),
    ):
        run_gates(conn, seeded.target, salt=seeded.salt)
