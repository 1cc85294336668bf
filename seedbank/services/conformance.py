"""The conformance report (FR-005, SC-003): JSON plus a human-readable Markdown summary
with sections PII, contracts, volumetry, idempotency, rate limit, invariants and
tenant isolation, built from a run report (or a `seed_data verify` report).

Pure rendering: it reads gate results and figures, which never carry a PII value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from seedbank.domain.errors import UsageError
from seedbank.gates import GateResult

# (key, title, gates it summarises)
SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("pii", "PII", ("pii",)),
    ("contracts", "Contracts (/api/v1)", ("contract",)),
    ("volumetry", "Volumetry", ("counts",)),
    ("idempotency", "Idempotency and determinism", ("determinism",)),
    ("rate_limit", "Rate limit", ("api-smoke",)),
    ("invariants", "Banking invariants", ("invariants",)),
    ("isolation", "Multi-tenant isolation", ("referential", "rls-probe")),
)
LISTED_IN_MARKDOWN = 20


def verification_section(
    gates: Sequence[GateResult], rate_limit: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The `verification` block of a run report: gate results and the rate budget."""
    status = "not run" if not gates else "failed" if any(g.failed for g in gates) else "passed"
    return {
        "status": status,
        "failed_gates": [g.name for g in gates if g.failed],
        "gates": [g.as_dict() for g in gates],
        "rate_limit": dict(rate_limit) if rate_limit is not None else None,
    }


def document(report: Mapping[str, Any]) -> dict[str, Any]:
    """The conformance document: per-section verdicts, with the full report inside."""
    verification: Mapping[str, Any] = report.get("verification") or {}
    gates = {g["name"]: g for g in verification.get("gates", [])}
    sections: dict[str, Any] = {}
    for key, title, names in SECTIONS:
        members = [gates[n] for n in names if n in gates]
        statuses = {g["status"] for g in members}
        sections[key] = {
            "title": title,
            "status": "failed"
            if "failed" in statuses
            else "passed"
            if "passed" in statuses
            else "skipped",
            "gates": {g["name"]: g for g in members},
        }
    sections["volumetry"]["expected"] = report.get("expected_counts") or _found(gates, "expected")
    sections["volumetry"]["found"] = _found(gates, "found")
    sections["volumetry"]["timings_s"] = report.get("timings_s", {})
    batches = report.get("batches") or []
    sections["idempotency"].update(
        {
            "batches": len(batches),
            "batches_written": sum(1 for b in batches if not b.get("skipped")),
            "batches_skipped": sum(1 for b in batches if b.get("skipped")),
            "checkpoints_recorded": not report.get("dry_run", False) and bool(batches),
            "dataset_digest": report.get("dataset_digest"),
        }
    )
    sections["rate_limit"]["manifest"] = verification.get("rate_limit")
    if sections["rate_limit"]["status"] == "skipped":
        smoke = gates.get("api-smoke", {})
        sections["rate_limit"]["note"] = smoke.get("figures", {}).get("reason", "not configured")
    outcome_ok = report.get("outcome", "succeeded") == "succeeded"
    return {
        "kind": "conformance_report",
        "passed": verification.get("status") == "passed" and outcome_ok,
        "sections": sections,
        "report": dict(report),
    }


def _found(gates: Mapping[str, Any], key: str) -> dict[str, Any]:
    figures = gates.get("counts", {}).get("figures", {})
    value = figures.get(key)
    return dict(value) if isinstance(value, Mapping) else {}


def markdown(doc: Mapping[str, Any]) -> str:
    report: Mapping[str, Any] = doc["report"]
    verdict = "PASSED" if doc["passed"] else "FAILED"
    where = f"{report.get('env')}/{report.get('tenant')} ({report.get('mode')})"
    kind = "dry run (rolled back)" if report.get("dry_run") else report.get("kind")
    lines = [
        f"# Conformance report: {where}",
        "",
        f"**{verdict}** · {kind}"
        f" · run `{report.get('run_id')}` · outcome {report.get('outcome', 'n/a')}",
        "",
        f"- manifest digest `{report.get('manifest_digest')}`, salt version"
        f" {report.get('salt_version')}",
    ]
    if report.get("error"):
        lines.append(f"- error: {_cell(str(report['error']))}")
    lines += ["", "| Section | Status | Gates |", "|---|---|---|"]
    for section in doc["sections"].values():
        names = ", ".join(section["gates"]) or "-"
        lines.append(f"| {section['title']} | {section['status']} | {names} |")
    for key, section in doc["sections"].items():
        lines += ["", f"## {section['title']}", ""]
        lines += _section_extras(key, section)
        for gate in section["gates"].values():
            lines += _gate(gate)
    lines += ["", "## Gate timings", "", "| Gate | Status | Seconds |", "|---|---|---|"]
    for gate in (report.get("verification") or {}).get("gates", []):
        lines.append(
            f"| {gate['name']} | {gate['status']} | {gate['figures'].get('duration_s', '-')} |"
        )
    return "\n".join(lines) + "\n"


def _section_extras(key: str, section: Mapping[str, Any]) -> list[str]:
    if key == "volumetry" and section.get("found"):
        rows = ["| Entity | Expected | Found |", "|---|---:|---:|"]
        expected = section.get("expected", {})
        for entity, found in section["found"].items():
            rows.append(f"| {entity} | {expected.get(entity, '-')} | {found} |")
        return [*rows, ""]
    if key == "idempotency":
        return [
            f"- batches: {section['batches']} ({section['batches_written']} written,"
            f" {section['batches_skipped']} skipped by their checkpoints); checkpoints"
            f" recorded: {'yes' if section['checkpoints_recorded'] else 'no'}",
            f"- dataset digest: `{section['dataset_digest']}`",
            "",
        ]
    if key == "rate_limit":
        manifest = section.get("manifest") or {}
        out = [
            f"- manifest: target {manifest.get('target_rpm', '-')} rpm, cap"
            f" {manifest.get('cap_rpm', '-')} rpm (the smoke stays at or under 80 % of the cap)"
        ]
        if section.get("note"):
            out.append(f"- smoke: {section['note']}")
        return [*out, ""]
    return []


def _gate(gate: Mapping[str, Any]) -> list[str]:
    figures = {k: v for k, v in gate["figures"].items() if k not in ("found", "expected")}
    lines = [f"**{gate['name']}**: {gate['status']}", ""]
    lines += [f"- {k}: {_figure(v)}" for k, v in figures.items()]
    failures = gate.get("failures", [])
    if failures:
        lines += ["", "| Entity | Row id | Field | Reason |", "|---|---|---|---|"]
        for f in failures[:LISTED_IN_MARKDOWN]:
            lines.append(
                f"| {f['entity']} | {f['row_id'] or '-'} | {f['field'] or '-'} |"
                f" {_cell(f['reason'])} |"
            )
        hidden = int(gate["figures"].get("failures_total", len(failures))) - LISTED_IN_MARKDOWN
        if hidden > 0:
            lines.append(f"\n({hidden} more in the JSON report)")
    return [*lines, ""]


def _figure(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_figure(v)}" for k, v in value.items()) or "-"
    if isinstance(value, list | tuple):
        return ", ".join(_figure(v) for v in value) or "-"
    return str(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# The figures worth a glance per gate, for the terminal table.
HEADLINE: dict[str, tuple[str, ...]] = {
    "counts": ("rows", "expected_rows"),
    "referential": ("foreign_keys", "ownership_rules"),
    "rls-probe": ("writes_refused", "tables_probed"),
    "pii": ("values_proven", "pattern_hits"),
    "contract": ("validated",),
    "invariants": ("rules", "accounts", "loans"),
    "determinism": ("stored_digest", "previous_run_id"),
    "api-smoke": ("requests", "achieved_rpm", "cap_rpm"),
}


def gate_table(gates: Sequence[GateResult], *, listed: int = LISTED_IN_MARKDOWN) -> list[str]:
    """Lines of a per-gate table, then the first findings (entity, row id, field)."""
    lines = [f"  {'gate':<12} {'status':<8} {'seconds':>8}  figures"]
    for g in gates:
        shown = [f"{k}={_short(g.figures[k])}" for k in HEADLINE.get(g.name, ()) if k in g.figures]
        if g.status == "skipped" and "reason" in g.figures:
            shown = [str(g.figures["reason"])]
        seconds = g.figures.get("duration_s", "-")
        lines.append(f"  {g.name:<12} {g.status:<8} {seconds:>8}  {' '.join(shown)}")
    for g in gates:
        for f in g.failures[:listed]:
            lines.append(f"  {g.name}: {f.sentence()}")
        total = int(g.figures.get("failures_total", len(g.failures)))
        hidden = total - min(listed, len(g.failures))
        if hidden > 0:
            lines.append(f"  {g.name}: ... {hidden} more (see --report)")
    return lines


def _short(value: Any) -> str:
    text = str(value)
    return text[:12] + "…" if len(text) == 64 else text


def write(path: Path, report: Mapping[str, Any]) -> dict[str, Any]:
    """Write `path` (JSON) and its `.md` twin; returns the document."""
    doc = document(report)
    json_path = path.with_suffix(".json") if path.suffix == ".md" else path
    try:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n")
        json_path.with_suffix(".md").write_text(markdown(doc))
    except OSError as exc:
        raise UsageError(
            f"cannot write the conformance report to {json_path} ({exc.strerror})",
            fix="pass a writable --report path",
        ) from None
    return doc
