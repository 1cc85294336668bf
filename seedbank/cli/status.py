"""`seed_data status [--tenant] [--env] [--json]`: locks, last runs, datasets and their TTL,
and what `expurge` would remove now, per env/tenant; a table for people, JSON for tools."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from seedbank.observability.redaction import scrub_text
from seedbank.services.status import collect, targets
from seedbank.settings import Settings

if TYPE_CHECKING:
    from seedbank.services.status import TenantStatus


def status_command(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant.")] = None,
    env: Annotated[str | None, typer.Option(help="Only this env.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of the table.")] = False,
) -> None:
    """Who holds each lock, the last runs, the datasets and their TTL, what expurge would remove."""
    settings = Settings()
    pairs = targets(settings.profiles_dir, env=env, tenant=tenant)
    now = datetime.now(UTC)
    found = collect(
        settings.database_url, pairs, now=now, grace=timedelta(hours=settings.expurge_grace_hours)
    )
    if as_json:
        document = {"at": now.isoformat(), "targets": [s.as_dict() for s in found]}
        typer.echo(json.dumps(document, indent=2, sort_keys=True, default=_json))
        return
    typer.echo("\n".join(render(found, now=now)))


def render(found: list[TenantStatus], *, now: datetime) -> list[str]:
    """The human view: one block per env/tenant."""
    if not found:
        return ["no versioned profiles: nothing to show"]
    lines: list[str] = []
    for s in found:
        lines += ["", f"{s.env}/{s.tenant}", f"  lock      {_lock(s)}"]
        lines += _runs(s)
        lines += _datasets(s, now)
        remove = s.expurge_would_remove
        lines.append(
            "  expurge   would remove now: "
            + ", ".join(f"{d.mode} ({d.rows:,} rows)" for d in remove)
            if remove
            else "  expurge   nothing to remove now"
        )
        if s.last_refusal:
            r = s.last_refusal
            lines.append(f"  refused   {_at(r.at)} {r.event}: {scrub_text(r.reason)}")
    return lines[1:]


def _lock(s: TenantStatus) -> str:
    lock = s.lock
    if lock is None:
        return "free"
    state = "held" if lock.held else "NOT held (lease row of a dead run; the next run takes it)"
    lease = (
        f"lease OVERDUE by {lock.overdue_s:.0f} s"
        if lock.overdue_s > 0
        else f"lease until {_at(lock.lease_expires_at)}"
    )
    return (
        f"{state} by {scrub_text(lock.holder)}, run {lock.run_id}, since"
        f" {_at(lock.acquired_at)}; heartbeat {lock.heartbeat_age_s:.0f} s ago, {lease}"
    )


def _runs(s: TenantStatus) -> list[str]:
    if not s.runs:
        return ["  runs      none recorded"]
    out = []
    for i, r in enumerate(s.runs):
        took = f"{r.duration_s:>8.1f} s" if r.duration_s is not None else "   running"
        label = "  runs      " if i == 0 else "            "
        out.append(f"{label}{_at(r.started_at)}  {r.mode:<8} {r.status:<10} {took}  {r.run_id}")
    return out


def _datasets(s: TenantStatus, now: datetime) -> list[str]:
    if not s.datasets:
        return ["  datasets  none present"]
    out = []
    for i, d in enumerate(s.datasets):
        if d.expires_at is None:
            ttl = "no TTL"
        elif d.expired:
            ttl = f"EXPIRED at {_at(d.expires_at)}"
            ttl += f", overdue by {d.overdue_s:.0f} s (new runs refused)" if d.overdue_s else ""
        else:
            ttl = f"expires {_at(d.expires_at)} (in {_span(d.expires_at - now)})"
        label = "  datasets  " if i == 0 else "            "
        out.append(
            f"{label}{d.mode:<8} {d.rows:>12,} rows {d.batches:>6} batches"
            f"  seeded {_at(d.seeded_at)}  {ttl}"
        )
    return out


def _json(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _at(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    days, rest = divmod(max(seconds, 0), 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days}d {hours}h" if days else f"{hours}h {rest // 60}m"
