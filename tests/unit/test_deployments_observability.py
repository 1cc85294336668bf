"""The Grafana dashboard and the Prometheus alert rules in deployments/observability/,
validated offline (issue 18): JSON structure, rule-file structure, and every PromQL
expression checked for balance, known functions, and metric and label names the code
really exports (no pinned PromQL parser is available on PyPI here; this is the
structural check `promtool check rules` would start with)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from seedbank.observability import metrics
from seedbank.services.status_metrics import GAUGES, label_names
from tests.support.promql import PromQLError, check_promql

REPO = Path(__file__).resolve().parents[2]
HERE = REPO / "deployments" / "observability"
DASHBOARD = HERE / "grafana-dashboard.json"
ALERTS = HERE / "prometheus-alerts.yaml"


def exported() -> dict[str, frozenset[str]]:
    """Every series name the code exports, with its label names."""
    names: dict[str, frozenset[str]] = {}
    for value in vars(metrics).values():
        if not isinstance(value, MetricWrapperBase):
            continue
        # The client's own description of the series (no public accessor).
        name, kind = value._name, value._type
        labels = frozenset(value._labelnames)
        if kind == "counter":
            names[f"{name}_total"] = labels
        elif kind == "histogram":
            names[f"{name}_bucket"] = labels | {"le"}
            names[f"{name}_sum"] = names[f"{name}_count"] = labels
        else:
            names[name] = labels
    for name in GAUGES:
        names[name] = frozenset(label_names(name))
    return names


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return data


def panels() -> Iterator[dict[str, Any]]:
    for panel in dashboard()["panels"]:
        if panel["type"] != "row":
            yield panel


@pytest.mark.parametrize(
    "expr",
    [
        "sum(rate(seedbank_rows_writen_total[5m]))",  # a typo'd metric
        "sum(rate(seedbank_rows_written_total[5m])",  # unbalanced
        "sum by (entity) (rat(seedbank_rows_written_total[5m]))",  # unknown function
        'sum(rate(seedbank_rows_written_total{tenantt="a"}[5m]))',  # unknown label
        "sum by (queue) (rate(seedbank_rows_written_total[5m]))",  # unknown grouping label
        "rate(seedbank_rows_written_total[5 minutes])",  # bad range
        "seedbank_run_duration_seconds seedbank_run_slo_seconds",  # no operator
        "seedbank_rows_written",  # a counter is exported with _total
    ],
)
def test_the_checker_rejects_what_prometheus_would(expr: str) -> None:
    with pytest.raises(PromQLError):
        check_promql(expr, exported())


def test_the_dashboard_is_well_formed_grafana_json() -> None:
    data = dashboard()
    assert data["uid"] == "seedbank-runs"
    assert isinstance(data["schemaVersion"], int)
    assert data["title"]
    ids = [p["id"] for p in data["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"] for v in data["templating"]["list"]}
    assert variables == {"datasource", "env", "tenant"}
    for panel in panels():
        grid = panel["gridPos"]
        assert 0 < grid["w"] <= 24, panel["title"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}"
        assert panel["targets"], panel["title"]
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids))
        for target in panel["targets"]:
            used = set(re.findall(r"\$\{?(\w+)", target["expr"]))
            assert used <= variables, (panel["title"], used)


def test_every_dashboard_query_names_only_metrics_the_code_exports() -> None:
    known = exported()
    used: set[str] = set()
    for panel in panels():
        for target in panel["targets"]:
            used |= check_promql(target["expr"], known)
    for variable in dashboard()["templating"]["list"]:
        if variable["type"] == "query":
            inner = re.fullmatch(r"label_values\((.*), *(\w+)\)", variable["query"]["query"])
            assert inner, variable["name"]
            used |= check_promql(inner.group(1), known)
    # What operators asked to see: throughput per entity, retries, stalls, duration
    # against the SLO, budget use, locks, TTL.
    assert {
        "seedbank_rows_written_total",
        "seedbank_batch_retries_total",
        "seedbank_batch_stalls_total",
        "seedbank_run_duration_seconds",
        "seedbank_run_slo_seconds",
        "seedbank_budget_used_ratio",
        "seedbank_lock_lease_overdue_seconds",
        "seedbank_dataset_expires_timestamp_seconds",
    } <= used


def test_the_alert_rules_are_a_valid_prometheus_rule_file() -> None:
    data = yaml.safe_load(ALERTS.read_text())
    assert set(data) == {"groups"}
    names = [g["name"] for g in data["groups"]]
    assert len(names) == len(set(names))
    known = exported()
    alerts = {}
    for group in data["groups"]:
        assert set(group) <= {"name", "interval", "rules", "limit"}
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
            assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", rule["alert"])
            assert isinstance(rule["expr"], str)
            check_promql(rule["expr"], known)
            if "for" in rule:
                assert re.fullmatch(r"(\d+[smhdwy])+", rule["for"])
            for mapping in ("labels", "annotations"):
                assert all(isinstance(v, str) for v in rule.get(mapping, {}).values())
            assert rule["labels"]["severity"] in {"warning", "critical"}
            assert {"summary", "description"} <= set(rule["annotations"])
            alerts[rule["alert"]] = rule["expr"]
    assert (
        "> 1.2 * max by (tenant, env, mode) (seedbank_run_slo_seconds)"
        in (alerts["SeedbankRunOverSlo"])
    )
    assert alerts["SeedbankBudgetHigh"].endswith(">= 0.8")
    assert "seedbank_expurge_overdue_seconds" in alerts["SeedbankExpurgeOverdue"]
    assert "seedbank_lock_lease_overdue_seconds" in alerts["SeedbankLockPastLease"]
    assert "seedbank_lock_held" in alerts["SeedbankLockPastLease"]


ALERT_TESTS = HERE / "prometheus-alerts.test.yaml"
# `make venv` installs it beside the interpreter (scripts/tools/install-promtool).
PROMTOOL = shutil.which(
    "promtool", path=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"
)


def test_every_alert_has_a_promtool_unit_test_that_fires_it() -> None:
    alerts = {r["alert"] for g in yaml.safe_load(ALERTS.read_text())["groups"] for r in g["rules"]}
    data = yaml.safe_load(ALERT_TESTS.read_text())
    assert data["rule_files"] == [ALERTS.name]
    fired = {
        case["alertname"]
        for test in data["tests"]
        for case in test["alert_rule_test"]
        if case["exp_alerts"]
    }
    assert fired == alerts
    known = exported()
    for test in data["tests"]:
        for series in test["input_series"]:
            name = series["series"].split("{", 1)[0]
            assert name in known, name


# Skipped only outside CI: CI runs `make test`, whose venv step installs promtool.
@pytest.mark.skipif(
    PROMTOOL is None and not os.environ.get("CI"), reason="promtool is not installed (make venv)"
)
def test_promtool_accepts_the_rules_and_the_dashboard_queries_and_the_alerts_fire(
    tmp_path: Path,
) -> None:
    assert PROMTOOL is not None
    # Every dashboard query, as a recording rule, through Prometheus' own parser.
    recorded = [
        {"record": f"dashboard:query{i}", "expr": re.sub(r"\$\{?\w+\}?", ".*", expr)}
        for i, expr in enumerate(t["expr"] for p in panels() for t in p["targets"])
    ]
    queries = tmp_path / "dashboard-rules.yaml"
    queries.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": recorded}]}))
    for argv in (
        ["check", "rules", str(ALERTS)],
        ["check", "rules", str(queries)],
        ["test", "rules", str(ALERT_TESTS)],
    ):
        done = subprocess.run(
            [PROMTOOL, *argv], capture_output=True, text=True, check=False, timeout=60
        )
        assert done.returncode == 0, done.stdout + done.stderr
