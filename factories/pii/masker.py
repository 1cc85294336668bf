"""The masker (rewrites every catalogued field) and the checker (proves a value is masked).

Masking is not idempotent on purpose: every value that reaches a catalogued field is
rewritten, even one that already looks masked, so nothing can skip the masker by
imitating its output (a raw birth date passes the checker with p = 1/28). The salt is
held only by these objects, never by module state.

Business keys (CPF, e-mail, phone: ``KEYED``) are not a function of the raw value but
of the row: the format-preserving encryption of its index (``factories.pii.keyed``),
so they are unique per tenant by construction; masking them needs the row ``index``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from factories.pii import formats as f
from factories.pii import keyed as k
from factories.pii.catalog import PII_CATALOG, FieldKind
from factories.pii.fpe import DigitPermutation, plaintext
from factories.pools import Pools, pools
from factories.spec import MODES

MIN_SALT_BYTES = 16
KEYED = frozenset({FieldKind.CPF, FieldKind.EMAIL, FieldKind.PHONE})
"""Kinds that are business keys: permuted row indices, unique per tenant."""
_PERMUTATIONS = {
    FieldKind.CPF: k.cpf_permutation,
    FieldKind.EMAIL: k.email_permutation,
    FieldKind.PHONE: k.phone_permutation,
}


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
    """Verifies, with the salt, that values came from the masker of one tenant.

    ``counts`` (mode -> entity -> rows) bounds the row index a business key may
    decrypt to: a mode it does not name holds none. Without it every mode slot is
    bounded by ``fpe.DEFAULT_BOUND`` (weaker odds; see ``factories.pii.keyed``).
    """

    def __init__(
        self, salt: bytes, tenant: str, counts: Mapping[str, Mapping[str, int]] | None = None
    ) -> None:
        if not isinstance(salt, bytes) or len(salt) < MIN_SALT_BYTES:
            raise ValueError(f"salt must be at least {MIN_SALT_BYTES} bytes")
        self._pools: Pools = pools()
        self._keys = {
            (entity, field): f.FieldKeys.derive(salt, tenant, f"{entity}.{field}")
            for entity, fields in PII_CATALOG.items()
            for field in fields
        }
        self._perms: dict[tuple[str, str], DigitPermutation] = {
            (entity, field): _PERMUTATIONS[kind](k.perm_key(salt, tenant, f"{entity}.{field}"))
            for entity, fields in PII_CATALOG.items()
            for field, kind in fields.items()
            if kind in KEYED
        }
        self._counts = None if counts is None else {m: dict(c) for m, c in counts.items()}
        self._verifiers: dict[tuple[str, str], Callable[[object], bool]] = {}

    def _bounds(self, entity: str) -> dict[int, int] | None:
        if self._counts is None:
            return None
        return {MODES[mode]: c.get(entity, 0) for mode, c in self._counts.items()}

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
        if kind in KEYED:
            perm, bounds = self._perms[(entity, field)], self._bounds(entity)
            verify_key: Callable[[str], bool] = {
                FieldKind.CPF: lambda v: k.verify_cpf(perm, v, bounds),
                FieldKind.EMAIL: lambda v: k.verify_email(perm, keys.tag, p, v, bounds),
                FieldKind.PHONE: lambda v: k.verify_phone(perm, v, bounds),
            }[kind]
            return lambda v: isinstance(v, str) and verify_key(v)
        verify: Callable[[str], bool] = {
            FieldKind.NAME: lambda v: f.verify_name(keys, p, v),
            FieldKind.STREET: lambda v: f.verify_street(keys, p, v),
            FieldKind.ZIP: lambda v: f.verify_zip(keys, v),
        }[kind]
        return lambda v: isinstance(v, str) and verify(v)


MaskFn = Callable[[Any, int | None], str | date]


class Masker(PiiChecker):
    """Rewrites catalogued fields of one tenant's ``mode`` dataset; ``as_of`` bounds
    masked birth dates."""

    def __init__(self, salt: bytes, tenant: str, as_of: date, mode: str = "baseline") -> None:
        super().__init__(salt, tenant)
        self._as_of = _as_date(as_of)
        self._slot = MODES[mode]
        self._fns: dict[tuple[str, str], MaskFn] = {}
        self._positions: dict[tuple[str, tuple[str, ...]], tuple[tuple[int, MaskFn], ...]] = {}

    def _masker_of(self, entity: str, field: str) -> MaskFn:
        kind = _field_kind(entity, field)
        keys, p, as_of = self._keys[(entity, field)], self._pools, self._as_of
        if kind in KEYED:
            perm, slot = self._perms[(entity, field)], self._slot

            def row(index: int | None) -> int:
                if index is None:
                    raise ValueError(f"{entity}.{field} is a business key: mask it by row index")
                return plaintext(slot, index)

            return {
                FieldKind.CPF: lambda v, i: k.mask_cpf(perm, row(i)),
                FieldKind.EMAIL: lambda v, i: k.mask_email(perm, keys.tag, p, row(i)),
                FieldKind.PHONE: lambda v, i: k.mask_phone(perm, row(i)),
            }[kind]
        if kind is FieldKind.BIRTH_DATE:
            return lambda v, i: f.mask_birth_date(keys, _as_date(v), as_of)
        return {
            FieldKind.NAME: lambda v, i: f.mask_name(keys, p, text(v)),
            FieldKind.STREET: lambda v, i: f.mask_street(keys, p, text(v)),
            FieldKind.ZIP: lambda v, i: f.mask_zip(keys, text(v)),
        }[kind]

    def mask(self, entity: str, field: str, value: object, index: int | None = None) -> str | date:
        """The masked form of ``value`` (of row ``index``, required for a business key);
        any value, already masked or not, is rewritten."""
        fn = self._fns.get((entity, field))
        if fn is None:
            fn = self._fns[(entity, field)] = self._masker_of(entity, field)
        return fn(value, index)

    def mask_values(
        self,
        entity: str,
        columns: tuple[str, ...],
        values: Sequence[Any],
        index: int | None = None,
    ) -> tuple[Any, ...]:
        """Row ``index`` in ``columns`` order with every catalogued field rewritten (bulk)."""
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
            out[i] = fn(out[i], index)
        return tuple(out)

    def mask_mapping(
        self, entity: str, row: Mapping[str, Any], index: int | None = None
    ) -> dict[str, Any]:
        """Row ``index`` as a mapping with every catalogued field rewritten (factory path)."""
        out = dict(row)
        for field in PII_CATALOG.get(entity, {}):
            if field in out:
                out[field] = self.mask(entity, field, out[field], index)
        return out


def is_masked(entity: str, field: str, value: object, *, tenant: str, salt: bytes) -> bool:
    """True when ``value`` of ``entity.field`` was produced by the masker of (salt, tenant).

    A yes is a proof up to the forgery probability of the field's format (see
    ``factories.pii.formats``); raw values and values masked with another salt or
    for another tenant or field are rejected.
    """
    return PiiChecker(salt, tenant).is_masked(entity, field, value)
