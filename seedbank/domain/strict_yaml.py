"""A strict YAML reader for manifests (pure: text in, plain data out).

PyYAML's SafeLoader speaks YAML 1.1, where an unquoted `22:00` is the integer 1320,
`yes`/`on` are booleans and `2026-01-01` is a date, and a repeated key silently
wins. Manifests are read with YAML 1.2 core scalars instead; an unquoted value that
YAML 1.1 would read differently is refused (other tools read manifests too), and so
are duplicate keys, aliases, explicit tags and deep nesting: each as one sentence
naming the line.
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode

MAX_DEPTH = 16
"""A manifest is three levels deep; more is a mistake or an attack on the recursion."""
MAX_INT_DIGITS = 18

_CORE: dict[str, tuple[str, str]] = {
    # tag: (first characters, pattern) of the YAML 1.2 core schema.
    "tag:yaml.org,2002:null": ("~nN", r"^(?:~|null|Null|NULL|)$"),
    "tag:yaml.org,2002:bool": ("tTfF", r"^(?:true|True|TRUE|false|False|FALSE)$"),
    "tag:yaml.org,2002:int": ("-+0123456789", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    "tag:yaml.org,2002:float": (
        "-+.0123456789",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
    ),
}


class StrictLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core scalars and no duplicate keys, aliases or tags."""

    _depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        # A mapping's value is composed with its key node as `index`: name it in errors.
        key = f"'{str(index.value)[:40]}': " if isinstance(index, ScalarNode) else ""
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            _refuse(f"{key}anchors and aliases are not allowed in a manifest", event)
        if getattr(event, "tag", None) not in (None, "!"):
            _refuse(f"{key}explicit YAML tags are not allowed in a manifest", event)
        if isinstance(event, yaml.ScalarEvent) and event.implicit[0]:
            self._plain_scalar(event, key)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                _refuse(f"{key}nested deeper than {MAX_DEPTH} levels", event)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def _plain_scalar(self, event: yaml.ScalarEvent, key: str) -> None:
        """An unquoted value must mean the same to the YAML 1.1 tools that read manifests
        too (CI, Argo CD): `22:00`, `yes`, `2026-01-01` or `017` must be quoted."""
        value = str(event.value)
        plain = (True, False)
        old: str = _YAML_1_1.resolve(ScalarNode, value, plain)  # type: ignore[no-untyped-call]
        new: str = self.resolve(ScalarNode, value, plain)  # type: ignore[no-untyped-call]
        if old != new or _OCTAL_1_1.fullmatch(value):
            kind = _KINDS.get(old.rsplit(":", 1)[-1], "string")
            _refuse(
                f"{key}the unquoted value {value[:20]!r} is a {kind} to YAML 1.1 tools"
                ' (CI, Argo CD); quote it, e.g. start: "22:00"',
                event,
            )
        if new.endswith((":int", ":float")) and len(value) > MAX_INT_DIGITS + 2:
            _refuse(f"{key}a number longer than {MAX_INT_DIGITS} digits", event)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                raise ConstructorError(
                    None, None, "every key must be a plain string", key_node.start_mark
                )
            if key in seen:
                raise ConstructorError(
                    None, None, f"duplicate key '{key[:40]}'", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: ScalarNode) -> int:
        text = str(self.construct_scalar(node))
        if len(text.lstrip("+-")) > MAX_INT_DIGITS:
            raise ConstructorError(
                None, None, f"an integer longer than {MAX_INT_DIGITS} digits", node.start_mark
            )
        if text.startswith(("0o", "0x")):
            return int(text[2:], 8 if text[1] == "o" else 16)
        return int(text, 10)

    def construct_yaml_float(self, node: ScalarNode) -> float:
        text = str(self.construct_scalar(node)).lower()
        if len(text) > 40:
            raise ConstructorError(
                None, None, "a number longer than 40 characters", node.start_mark
            )
        return float(text.replace(".inf", "inf").replace(".nan", "nan"))


StrictLoader.yaml_implicit_resolvers = {}  # YAML 1.1's are not inherited: only these
for _tag, (_first, _pattern) in _CORE.items():
    # An empty plain scalar (`key:`) is looked up under "" and is null.
    _starts = [*_first, ""] if _tag.endswith("null") else list(_first)
    StrictLoader.add_implicit_resolver(_tag, re.compile(_pattern), _starts)
StrictLoader.add_constructor("tag:yaml.org,2002:int", StrictLoader.construct_yaml_int)
StrictLoader.add_constructor("tag:yaml.org,2002:float", StrictLoader.construct_yaml_float)


def _refuse(problem: str, event: Any) -> NoReturn:
    raise ConstructorError(None, None, problem, event.start_mark)


_OCTAL_1_1 = re.compile(r"[-+]?0[0-7_]+")
"""017 is 15 to YAML 1.1 and 17 to YAML 1.2: the same tag, another number."""
_KINDS = {"int": "number", "float": "number", "bool": "boolean", "timestamp": "date"}
_YAML_1_1 = yaml.SafeLoader("")
"""Only its resolver is used: what YAML 1.1 makes of a plain scalar."""


def load(text: str) -> Any:
    """The single document in `text`; raises `yaml.YAMLError` on anything refused above."""
    return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - a SafeLoader subclass
