"""The masker (rewrites every catalogued field) and the checker (proves a value is masked).

Masking is not idempotent on purpose: every value that reaches a catalogued field is
rewritten, even one that already looks masked, so nothing can skip the masker by
imitating its output (a raw birth date passes the checker with p = 1/28). The salt is
held only by these objects, never by module state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from factories.pii import formats as f
from factories.pii.catalog import PII_CATALOG, FieldKind
from factories.pools import Pools, pools

MIN_SALT_BYTES = 16


def _field_kind(entity: str, field: str) -> FieldKind:
    try:
        return PII_CATALOG[entity][field]
    except KeyError:
        raise ValueError(f"{entity}.{field} is not a catalogued PII field") from None


def text(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


class PiiChecker:
    """Verifies, with the salt, that values came from the masker of one tenant."""

    def __init__(self, salt: bytes, tenant: str) -> None:
        if not isinstance(salt, bytes) or len(salt) < MIN_SALT_BYTES:
            raise ValueError(f"salt must be at least {MIN_SALT_BYTES} bytes")
        self._pools: Pools = pools()
        self._keys = {
            (entity, field): f.FieldKeys.derive(salt, tenant, f"{entity}.{field}")
            for entity, fields in PII_CATALOG.items()
            for field in fields
        }
        self._verifiers: dict[tuple[str, str], Callable[[object], bool]] = {}

    def is_masked(self, entity: str, field: str, value: object) -> bool:
        verify = self._verifiers.get((entity, field))
        if verify is None:
            verify = self._verifiers[(entity, field)] = self._verifier_of(entity, field)
        return verify(value)

    def _verifier_of(self, entity: str, field: str) -> Callable[[object], bool]:
        kind = _field_kind(entity, field)
        keys, p = self._keys[(entity, field)], self._pools
        if kind is FieldKind.BIRTH_DATE:
            return lambda v: (
                isinstance(v, date) and not isinstance(v, datetime) and f.verify_birth_date(keys, v)
            )
        verify: Callable[[str], bool] = {
            FieldKind.NAME: lambda v: f.verify_name(keys, p, v),
            FieldKind.STREET: lambda v: f.verify_street(keys, p, v),
            FieldKind.EMAIL: lambda v: f.verify_email(keys, v),
            FieldKind.PHONE: lambda v: f.verify_phone(keys, v),
            FieldKind.CPF: lambda v: f.verify_cpf(keys, v),
            FieldKind.ZIP: lambda v: f.verify_zip(keys, v),
        }[kind]
        return lambda v: isinstance(v, str) and verify(v)


class Masker(PiiChecker):
    """Rewrites catalogued fields of one tenant; ``as_of`` bounds masked birth dates."""

    def __init__(self, salt: bytes, tenant: str, as_of: date) -> None:
        super().__init__(salt, tenant)
        self._as_of = _as_date(as_of)
        self._fns: dict[tuple[str, str], Callable[[Any], str | date]] = {}
        self._positions: dict[tuple[str, tuple[str, ...]], tuple[tuple[int, Any], ...]] = {}

    def _masker_of(self, entity: str, field: str) -> Callable[[Any], str | date]:
        kind = _field_kind(entity, field)
        keys, p, as_of = self._keys[(entity, field)], self._pools, self._as_of
        if kind is FieldKind.BIRTH_DATE:
            return lambda v: f.mask_birth_date(keys, _as_date(v), as_of)
        return {
            FieldKind.NAME: lambda v: f.mask_name(keys, p, text(v)),
            FieldKind.STREET: lambda v: f.mask_street(keys, p, text(v)),
            FieldKind.EMAIL: lambda v: f.mask_email(keys, p, text(v)),
            FieldKind.PHONE: lambda v: f.mask_phone(keys, text(v)),
            FieldKind.CPF: lambda v: f.mask_cpf(keys, text(v)),
            FieldKind.ZIP: lambda v: f.mask_zip(keys, text(v)),
        }[kind]

    def mask(self, entity: str, field: str, value: object) -> str | date:
        """The masked form of ``value``; any value, already masked or not, is rewritten."""
        fn = self._fns.get((entity, field))
        if fn is None:
            fn = self._fns[(entity, field)] = self._masker_of(entity, field)
        return fn(value)

    def mask_values(
        self, entity: str, columns: tuple[str, ...], values: Sequence[Any]
    ) -> tuple[Any, ...]:
        """A row in ``columns`` order with every catalogued field rewritten (bulk path)."""
        positions = self._positions.get((entity, columns))
        if positions is None:
            catalog = PII_CATALOG.get(entity, {})
            positions = tuple(
                (i, self._masker_of(entity, c)) for i, c in enumerate(columns) if c in catalog
            )
            self._positions[(entity, columns)] = positions
        if not positions:
            return tuple(values)
        out = list(values)
        for i, fn in positions:
            out[i] = fn(out[i])
        return tuple(out)

    def mask_mapping(self, entity: str, row: Mapping[str, Any]) -> dict[str, Any]:
        """A row as a mapping with every catalogued field rewritten (factory path)."""
        out = dict(row)
        for field in PII_CATALOG.get(entity, {}):
            if field in out:
                out[field] = self.mask(entity, field, out[field])
        return out


def is_masked(entity: str, field: str, value: object, *, tenant: str, salt: bytes) -> bool:
    """True when ``value`` of ``entity.field`` was produced by the masker of (salt, tenant).

    A yes is a proof up to the forgery probability of the field's format (see
    ``factories.pii.formats``); raw values and values masked with another salt or
    for another tenant or field are rejected.
    """
    return PiiChecker(salt, tenant).is_masked(entity, field, value)
