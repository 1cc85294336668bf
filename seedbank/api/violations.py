"""A schema error as (field, reason) built from the SCHEMA side only (pure).

jsonschema messages quote the offending value ("'123.4' does not match ..."), and
the value may be PII: reasons here are written from the keyword and the schema's own
constraint (pattern, allowed values, limits), never from the instance.
"""

from __future__ import annotations

from collections.abc import Sequence

import jsonschema_rs

Kind = jsonschema_rs.ValidationErrorKind


def _field(path: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in path) or "(body)"


def _reason(kind: Kind) -> str:  # noqa: PLR0911 - one line per keyword reads best
    match kind:
        case Kind.Type(types=types):
            return f"must be of type {' or '.join(types)}"
        case Kind.Enum(options=options):
            return "must be one of: " + ", ".join(str(o) for o in options)
        case Kind.Pattern(pattern=pattern):
            return f"does not match the pattern {pattern}"
        case Kind.Format(format=fmt):
            return f"is not a valid {fmt}"
        case Kind.Minimum(limit=limit) | Kind.ExclusiveMinimum(limit=limit):
            return f"is below the minimum {limit}"
        case Kind.Maximum(limit=limit) | Kind.ExclusiveMaximum(limit=limit):
            return f"is above the maximum {limit}"
        case Kind.MinLength(limit=limit):
            return f"is shorter than {limit} characters"
        case Kind.MaxLength(limit=limit):
            return f"is longer than {limit} characters"
        case Kind.MaxItems(limit=limit):
            return f"has more than {limit} items"
    return f"violates the schema keyword '{kind.name}'"


def describe(kind: Kind, instance_path: Sequence[str | int]) -> list[tuple[str, str]]:
    """(field, reason) pairs of one error; a missing or unexpected field names itself."""
    prefix = [*instance_path]
    match kind:
        case Kind.Required(property=name):
            return [(_field([*prefix, str(name)]), "is required but missing")]
        case Kind.AdditionalProperties(unexpected=names):
            return [(_field([*prefix, n]), "is not a field of this representation") for n in names]
    return [(_field(prefix), _reason(kind))]
