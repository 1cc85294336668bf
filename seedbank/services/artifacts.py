"""What a flow run shows in the Prefect UI (pure): the run's report as Markdown, a table
of per-entity counts and timings, and the artifact keys.

Every artifact of one env/tenant shares a key (`seedbank-dev-acme`), so the UI's
Artifacts page shows the history of that tenant's datasets: seeds, verifications,
expurges and DR drills alike. Builders read reports (ids, digests, counts, gate
figures), which carry no PII; the inputs are still redacted and the Markdown scrubbed,
as everywhere else something leaves the process.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from seedbank.domain.errors import SeedbankError
from seedbank.observability.redaction import redact, scrub_text
from seedbank.services import conformance

KEY_PREFIX = "seedbank"
_NOT_IN_KEY = re.compile(r"[^a-z0-9]+")
_IDS = (("run", "run_id"), ("drill", "drill_id"))


def artifact_key(*parts: str | None) -> str:
    """A valid Prefect artifact key (lowercase letters, digits, dashes) from its parts."""
    words = [_NOT_IN_KEY.sub("-", str(p).lower()).strip("-") for p in (KEY_PREFIX, *parts) if p]
    return "-".join(w for w in words if w)


@dataclass(frozen=True)
class Failure:
    """Why a run failed and what fixes it, in the words the CLI prints."""

    reason: str
    fix: str | None


def failure_of(exc: BaseException | None) -> Failure | None:
    if exc is None:
        return None
    if isinstance(exc, SeedbankError):
        return Failure(scrub_text(exc.message.rstrip(".")), exc.fix and scrub_text(exc.fix))
    return Failure(
        f"internal error ({type(exc).__name__})",
        "see this flow run's logs and report it; a re-run resumes from the checkpoints",
    )


@dataclass(frozen=True)
class RunArtifacts:
    """One markdown and one table artifact of a run, and their keys."""

    key: str
    description: str
    markdown: str
    table_key: str
    table: list[dict[str, Any]]


def run_artifacts(
    report: Mapping[str, Any],
    *,
    evidence: Mapping[str, Any] | None = None,
    failure: Failure | None = None,
) -> RunArtifacts:
    """Artifacts of a `seed` or `verify` run from its report (`services.evidence`)."""
    safe: dict[str, Any] = redact(dict(report))
    kind = str(safe.get("kind") or "seed_run")
    header = _header(safe, kind=kind, failure=failure)
    sealed = evidence if evidence is not None else safe.get("evidence")
    header += _evidence_lines(sealed)
    if isinstance(sealed, Mapping) and sealed.get("key") and safe.get("run_id"):
        header.append(
            f"- re-check it: `seed_data verify-evidence {safe['run_id']}"
            f" --tenant={safe.get('tenant')} --env={safe.get('env')}`"
        )
    header += _guard_lines(safe.get("policy"))
    verification = safe.get("verification") or {}
    body = ""
    if verification.get("gates"):
        body = conformance.markdown(conformance.document(safe))
    elif failure is not None:
        header += ["", "Verification: not run (the run stopped before its gates)."]
    return _assemble(safe, header, body, _entity_rows(safe), failure)


def drill_artifacts(report: Mapping[str, Any], *, failure: Failure | None = None) -> RunArtifacts:
    """Artifacts of a `dr_drill` run from its report (or what is known when it failed early)."""
    safe: dict[str, Any] = redact(dict(report))
    header = _header(safe, kind="dr_drill", failure=failure)
    if "expected_source" in safe:
        header.append(_expected_line(safe))
    if "restore_seconds" in safe:
        header += [
            f"- restored dataset digest `{safe.get('restored_dataset_digest')}`"
            f" (equal: {'yes' if safe.get('digest_equal') else 'NO'})",
            f"- restore {safe['restore_seconds']} s; target {safe.get('target_seconds')} s"
            f" ({'met' if safe.get('within_target') else 'missed'}), RTO"
            f" {safe.get('rto_seconds')} s ({'met' if safe.get('within_rto') else 'MISSED'})",
            f"- rows lost in the simulation: {safe.get('rows_lost')}; restore run"
            f" `{safe.get('restore_run_id')}`",
        ]
    header += _evidence_lines(safe.get("evidence"))
    header += _gate_lines(safe.get("gates") or [])
    rows = _entity_rows({"counts": safe.get("counts") or {}})
    return _assemble(safe, header, "", rows, failure)


def _expected_line(safe: Mapping[str, Any]) -> str:
    """Where the drill's expected digest came from: a sealed dr dataset or the generator."""
    line = f"- expected dataset digest `{safe.get('expected_dataset_digest')}`"
    sealed = safe.get("expected_from")
    if safe.get("expected_source") == "sealed-evidence" and isinstance(sealed, Mapping):
        return (
            f"{line}, source: sealed evidence of DR run `{sealed.get('run_id')}`"
            f" (key `{sealed.get('key')}`, version `{sealed.get('version_id')}`)"
        )
    return (
        f"{line}, source: the generator (no sealed dr dataset of this manifest, salt version"
        f" and format; the restore's determinism gate: {safe.get('determinism_gate')})"
    )


def expurge_artifacts(result: Mapping[str, Any], *, failure: Failure | None = None) -> RunArtifacts:
    """Artifacts of one env/tenant target of an `expurge` run."""
    safe: dict[str, Any] = redact(dict(result))
    header = _header({**safe, "kind": "expurge"}, kind="expurge", failure=failure)
    purged: Mapping[str, Mapping[str, int]] = safe.get("purged") or {}
    if safe.get("skipped"):
        header.append(f"- skipped: {safe['skipped']}")
    elif not purged and failure is None:
        header.append("- nothing expired: nothing removed")
    for mode, deleted in purged.items():
        header.append(f"- {mode}: {sum(deleted.values())} rows removed")
    header += _evidence_lines(safe.get("evidence"))
    rows = [
        {"mode": mode, "entity": entity, "rows_removed": n}
        for mode, deleted in purged.items()
        for entity, n in deleted.items()
    ]
    return _assemble(safe, header, "", rows, failure)


def _assemble(
    safe: Mapping[str, Any],
    header: list[str],
    body: str,
    rows: list[dict[str, Any]],
    failure: Failure | None,
) -> RunArtifacts:
    key = artifact_key(safe.get("env"), safe.get("tenant"))
    kind = str(safe.get("kind") or "seed_run")
    verdict = "failed" if failure else "succeeded"
    text = "\n".join(header) + "\n" + ("\n" + body if body else "")
    return RunArtifacts(
        key=key,
        description=f"seedbank {kind} {safe.get('env')}/{safe.get('tenant')}: {verdict}",
        markdown=scrub_text(text),
        table_key=f"{key}-counts",
        table=[redact(r) for r in rows],
    )


def _header(safe: Mapping[str, Any], *, kind: str, failure: Failure | None) -> list[str]:
    where = f"{safe.get('env')}/{safe.get('tenant')}"
    mode = f" ({safe['mode']})" if safe.get("mode") else ""
    dry = " · dry run (rolled back)" if safe.get("dry_run") else ""
    lines = [f"# seedbank {kind}: {where}{mode} — {'FAILED' if failure else 'SUCCEEDED'}{dry}", ""]
    if failure is not None:
        lines += [f"**Reason:** {failure.reason}.", ""]
        lines += [f"**Fix:** {failure.fix}", ""] if failure.fix else []
    ids = [f"{name} `{safe[field]}`" for name, field in _IDS if safe.get(field)]
    if safe.get("started_at") and safe.get("finished_at"):
        ids.append(f"{safe['started_at']} → {safe['finished_at']}{_took(safe)}")
    if ids:
        lines.append("- " + " · ".join(ids))
    if safe.get("manifest_digest"):
        lines.append(
            f"- manifest {safe.get('manifest_version', '-')} digest `{safe['manifest_digest']}`,"
            f" salt version {safe.get('salt_version')}"
        )
    if "dataset_digest" in safe:
        lines.append(f"- dataset digest `{safe.get('dataset_digest') or '-'}`")
    if safe.get("expires_at"):
        lines.append(f"- dataset expires at {safe['expires_at']} (TTL; `expurge` removes it)")
    return lines


def _evidence_lines(evidence: Any) -> list[str]:
    if not isinstance(evidence, Mapping) or not evidence.get("key"):
        return ["- evidence: not sealed"]
    return [
        f"- evidence key `{evidence['key']}` version `{evidence.get('version_id')}`"
        f" in bucket `{evidence.get('bucket')}`, sha256 `{evidence.get('sha256')}`,"
        f" retained until {evidence.get('retain_until')}"
    ]


def _guard_lines(policy: Any) -> list[str]:
    verdicts: Sequence[Mapping[str, Any]] = (
        policy.get("verdicts", []) if isinstance(policy, Mapping) else []
    )
    if not verdicts:
        return []
    lines = ["", "## Guards", "", "| Guard | Verdict | Reason | Figures |", "|---|---|---|---|"]
    for v in verdicts:
        figures = ", ".join(f"{k}={val}" for k, val in (v.get("figures") or {}).items()) or "-"
        lines.append(f"| {v['guard']} | {v['outcome']} | {_cell(v['reason'])} | {_cell(figures)} |")
    estimate = policy.get("estimate") or {} if isinstance(policy, Mapping) else {}
    if estimate:
        lines.append(
            f"\nEstimate: {estimate.get('seconds')} s, US${estimate.get('usd')};"
            f" SLO {policy.get('slo_seconds')} s."
        )
    return lines


def _gate_lines(gates: Sequence[Mapping[str, Any]]) -> list[str]:
    if not gates:
        return []
    lines = ["", "## Gates", "", "| Gate | Verdict | Figures |", "|---|---|---|"]
    for g in gates:
        names = conformance.HEADLINE.get(str(g["name"]), ())
        figures = g.get("figures") or {}
        shown = ", ".join(f"{k}={figures[k]}" for k in names if k in figures) or "-"
        lines.append(f"| {g['name']} | {g['status']} | {_cell(shown)} |")
    return lines


def _entity_rows(safe: Mapping[str, Any]) -> list[dict[str, Any]]:
    counts: Mapping[str, int] = safe.get("counts") or {}
    expected: Mapping[str, int] = safe.get("expected_counts") or {}
    timings: Mapping[str, float] = safe.get("timings_s") or {}
    rows = []
    for entity in dict.fromkeys([*counts, *expected]):  # the seeding (dependency) order
        found = counts.get(entity)
        row: dict[str, Any] = {"entity": entity, "expected": expected.get(entity), "rows": found}
        if timings:  # a seed's; a verification reads, it times no entity
            seconds = timings.get(entity)
            row["seconds"] = seconds
            row["rows_per_s"] = round(found / seconds) if found and seconds else None
        rows.append(row)
    return rows


def _took(safe: Mapping[str, Any]) -> str:
    try:
        started = datetime.fromisoformat(str(safe["started_at"]))
        finished = datetime.fromisoformat(str(safe["finished_at"]))
    except ValueError:
        return ""
    return f" ({(finished - started).total_seconds():.1f} s)"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
