"""A structural PromQL check for the dashboards and alert rules, offline.

No PromQL parser is pinned on PyPI for this project, so this checks what matters for
seedbank's own expressions: balanced brackets, well-formed label matchers and ranges,
known functions, and metric and label names the code really exports.
"""

from __future__ import annotations

import re

FUNCTIONS = frozenset(
    {"rate", "increase", "irate", "delta", "histogram_quantile", "absent", "clamp_min", "time"}
    | {"sum", "max", "min", "avg", "count", "topk", "bottomk"}
)
KEYWORDS = frozenset({"and", "or", "unless", "bool", "offset"})
GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)\)")
MATCHER = re.compile(r"^\s*([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*S\s*$")
#: Labels Prometheus adds at scrape/push time.
TARGET_LABELS = frozenset({"instance", "job"})


class PromQLError(ValueError):
    """Raised when an expression would not parse or names what nothing exports."""


def check_promql(expr: str, known: dict[str, frozenset[str]]) -> set[str]:
    """The metric names `expr` uses; raises `PromQLError` on a structural fault.

    `known` maps every exported series name to its label names.
    """
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "S", expr)  # string literals out of the way
    _check_balance(text, expr)
    used_labels = _matcher_labels(text, expr)
    text = re.sub(r"\{[^{}]*\}", " ", text)
    for ranged in re.findall(r"\[([^\[\]]*)\]", text):
        if not re.fullmatch(r"\d+[smhdw]", ranged.strip()):
            raise PromQLError(f"bad range {ranged!r} in {expr!r}")
    text = re.sub(r"\[[^\[\]]*\]", " ", text)
    for _, names in GROUPING.findall(text):
        used_labels |= {n.strip() for n in names.split(",") if n.strip()}
    text = GROUPING.sub(" ", text)
    metrics_used = _metric_names(text, expr, known)
    available = set(TARGET_LABELS).union(*(known[m] for m in metrics_used))
    unknown = used_labels - available
    if unknown:
        raise PromQLError(f"labels {sorted(unknown)} are on none of its metrics ({expr!r})")
    return metrics_used


def _check_balance(text: str, expr: str) -> None:
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            raise PromQLError(f"unbalanced ')' in {expr!r}")
    if depth or text.count("{") != text.count("}") or text.count("[") != text.count("]"):
        raise PromQLError(f"unbalanced brackets in {expr!r}")


def _matcher_labels(text: str, expr: str) -> set[str]:
    labels: set[str] = set()
    for block in re.findall(r"\{([^{}]*)\}", text):
        for matcher in filter(None, (m.strip() for m in block.split(","))):
            found = MATCHER.match(matcher)
            if not found:
                raise PromQLError(f"bad label matcher {matcher!r} in {expr!r}")
            labels.add(found.group(1))
    return labels


def _metric_names(text: str, expr: str, known: dict[str, frozenset[str]]) -> set[str]:
    used: set[str] = set()
    for match in re.finditer(r"[a-zA-Z_:][\w:]*", text):
        word = match.group(0)
        if text[match.end() :].lstrip().startswith("("):
            if word not in FUNCTIONS:
                raise PromQLError(f"unknown function {word!r} in {expr!r}")
        elif word in KEYWORDS or word == "S":
            continue
        elif word not in known:
            raise PromQLError(f"{word!r} is not a metric seedbank exports ({expr!r})")
        else:
            used.add(word)
    if re.search(r"[a-zA-Z_]\s+[a-zA-Z_]", re.sub(r"\b(and|or|unless|bool)\b", "+", text)):
        raise PromQLError(f"two terms without an operator in {expr!r}")
    return used
