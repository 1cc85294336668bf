"""The pure parts of `seed_data post-sync`: option parsing, parameter typing by the
deployment's schema, and which Argo CD history entry is the previous deployment."""

from __future__ import annotations

from typing import Any

import pytest

from seedbank.adapters.argocd import Rollback, previous_deployment
from seedbank.domain.errors import UsageError
from seedbank.services.postsync import coerce_params, parse_pairs

# The parameter schema Prefect stores for the `seed` flow (deployment seed/tenant).
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "tenant": {"type": "string"},
        "env": {"type": "string"},
        "profile": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        "dry_run": {"type": "boolean", "default": False},
        "wait_seconds": {"type": "number", "default": 0.0},
        "actor": {"type": "string"},
    },
    "required": ["tenant", "env"],
}


def test_pairs_split_on_the_first_equals_sign() -> None:
    assert parse_pairs(["a=1", "URL=postgresql://u@h/db?x=y", "empty="], "--job-env") == {
        "a": "1",
        "URL": "postgresql://u@h/db?x=y",
        "empty": "",
    }


@pytest.mark.parametrize("bad", ["novalue", "=x", " =x"])
def test_a_pair_without_a_key_is_a_usage_error(bad: str) -> None:
    with pytest.raises(UsageError, match="is not key=value"):
        parse_pairs([bad], "--param")


def test_parameters_are_typed_by_the_schema() -> None:
    raw = {
        "tenant": "123",  # a string parameter stays a string, even when it looks like JSON
        "env": "dev",
        "profile": "null",  # string-or-null: the string "null", not None
        "dry_run": "true",
        "wait_seconds": "120",
    }
    assert coerce_params(raw, SCHEMA) == {
        "tenant": "123",
        "env": "dev",
        "profile": "null",
        "dry_run": True,
        "wait_seconds": 120,
    }


def test_a_value_that_is_not_json_is_left_for_the_server_to_refuse() -> None:
    assert coerce_params({"wait_seconds": "soon"}, SCHEMA) == {"wait_seconds": "soon"}


def test_an_unknown_parameter_is_a_usage_error_naming_the_known_ones() -> None:
    with pytest.raises(UsageError, match="'wait' is not a parameter") as caught:
        coerce_params({"wait": "1"}, SCHEMA)
    assert "wait_seconds" in caught.value.sentence()


def _app(history: list[dict[str, Any]], **operation: Any) -> dict[str, Any]:
    return {"status": {"history": history, "operationState": operation}}


H3 = {"id": 3, "revision": "aaa"}
H4 = {"id": 4, "revision": "bbb"}
H5 = {"id": 5, "revision": "ccc"}


def test_during_the_hook_the_previous_deployment_is_the_last_history_entry() -> None:
    app = _app([H3, H4], phase="Running", operation={"sync": {"revision": "ccc"}})
    assert previous_deployment(app) == (4, "bbb")


def test_once_the_sync_is_recorded_the_entry_before_it_is_the_previous_one() -> None:
    app = _app([H3, H4, H5], phase="Succeeded", syncResult={"revision": "ccc"})
    assert previous_deployment(app) == (4, "bbb")


def test_redeploys_of_the_same_revision_are_skipped() -> None:
    again = {"id": 6, "revision": "ccc"}
    app = _app([H3, H4, H5, again], syncResult={"revision": "ccc"})
    assert previous_deployment(app) == (4, "bbb")


def test_the_sync_status_revision_is_used_when_no_operation_is_recorded() -> None:
    app = {"status": {"history": [H3, H4, H5], "sync": {"revision": "ccc"}}}
    assert previous_deployment(app) == (4, "bbb")


def test_multi_source_applications_compare_all_their_revisions() -> None:
    history = [{"id": 1, "revisions": ["a1", "b1"]}, {"id": 2, "revisions": ["a2", "b1"]}]
    app = _app(history, syncResult={"revisions": ["a2", "b1"]})
    assert previous_deployment(app) == (1, "a1,b1")


@pytest.mark.parametrize(
    "app",
    [
        {},
        _app([]),
        _app([H5], syncResult={"revision": "ccc"}),
    ],
    ids=["no-status", "no-history", "only-the-current-revision"],
)
def test_there_is_nothing_to_roll_back_to(app: dict[str, Any]) -> None:
    assert previous_deployment(app) is None


def test_the_rollback_summary_says_whether_it_was_requested() -> None:
    done = Rollback("app", True, history_id=4, revision="bbb")
    assert done.summary() == (
        "rollback of Argo CD application app to history id 4 (revision bbb) was requested"
    )
    refused = Rollback("app", False, 4, "bbb", error="Argo CD answered 400: auto-sync")
    assert refused.summary() == "NO rollback was requested (Argo CD answered 400: auto-sync)"
    assert refused.detail()["requested"] is False
