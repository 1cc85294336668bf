"""A row's canonical bytes (dataset format 2026.3): PostgreSQL's ``record_send`` of it.

``record_send(ROW(c1, ..., cn))`` is what the server sends for a row in binary: the
column count, then per column its type oid, its length (-1 for NULL) and the type's
binary send form. PostgreSQL builds these bytes in one built-in call per stored row (the
read-back fold, `seedbank.gates.stored_fold`); the generator builds the same bytes from
the column types of `seedbank.domain.models`:

  uuid -> its 16 bytes | text, varchar -> UTF-8 | int4 -> 4 bytes, big-endian
  numeric(p, s) -> ndigits, weight, sign, dscale (= s) and base-10000 digits, each int16
  date -> int32 days since 2000-01-01 | timestamptz -> int64 microseconds since
  2000-01-01T00:00Z

No float, no repr, no locale, no time zone: the same rows give the same bytes on any
platform, and a value read back (numeric scale, session time zone) encodes alike. Text
goes out in the client encoding, so the fold pins UTF8 for its statement.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from sqlalchemy import Date, DateTime, Integer, Numeric, String, Text, Uuid

from seedbank.domain.models import DOMAIN_TABLES, table_name

OID = MappingProxyType(
    {
        "uuid": 2950,
        "text": 25,
        "varchar": 1043,
        "int4": 23,
        "numeric": 1700,
        "date": 1082,
        "timestamptz": 1184,
    }
)
"""PostgreSQL's fixed oids of the built-in types the domain tables use."""

PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
PG_EPOCH_ORDINAL = date(2000, 1, 1).toordinal()
_MICRO = timedelta(microseconds=1)
_NUMERIC_NEG = 0x4000


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    """A key of ``OID``."""
    scale: int = 0
    """numeric only: the column's scale (the dscale of every stored value)."""

    oid: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "oid", OID[self.kind])  # an unknown kind fails here


def _kind(kind: object) -> str | None:
    # Order matters: Text is a String subclass, BigInteger an Integer one.
    simple = ((Uuid, "uuid"), (Text, "text"), (String, "varchar"), (Date, "date"))
    found = next((name for cls, name in simple if isinstance(kind, cls)), None)
    if found is None and type(kind) is Integer:
        found = "int4"
    if found is None and isinstance(kind, DateTime) and kind.timezone:
        found = "timestamptz"
    return found


def _column(name: str, kind: object) -> Column:
    if isinstance(kind, Numeric) and kind.scale is not None:
        return Column(name, "numeric", int(kind.scale))
    found = _kind(kind)
    if found is None:
        raise TypeError(f"no canonical encoding for column {name} of type {kind}")
    return Column(name, found)


def numeric_send(value: Decimal, scale: int) -> bytes:
    """``numeric_send`` of a value stored in a ``numeric(p, scale)`` column."""
    num, den = value.as_integer_ratio()
    units, rest = divmod(abs(num) * 10**scale, den)
    if rest:
        raise ValueError(f"a value has more than the column's {scale} decimal places")
    groups_frac = -(-scale // 4)
    units *= 10 ** (4 * groups_frac - scale)  # the fraction padded to whole groups of 4
    groups: list[int] = []
    while units:
        units, group = divmod(units, 10_000)
        groups.append(group)
    groups.reverse()  # most significant first
    weight = len(groups) - groups_frac - 1
    while groups and groups[-1] == 0:  # no leading zero group: they come from an integer
        groups.pop()
    if not groups:
        return struct.pack(">hhHh", 0, 0, 0, scale)
    sign = _NUMERIC_NEG if num < 0 else 0
    return struct.pack(f">hhHh{len(groups)}h", len(groups), weight, sign, scale, *groups)


def _timestamptz(value: datetime) -> bytes:
    if value.utcoffset() is None:
        raise ValueError("a naive datetime in a timestamptz column")
    return _Q.pack((value - PG_EPOCH) // _MICRO)


_Q, _I = struct.Struct(">q"), struct.Struct(">i")
_SENDERS: Mapping[str, tuple[type, Callable[[Any, int], bytes]]] = MappingProxyType(
    {
        "uuid": (uuid.UUID, lambda v, _: v.bytes),
        "text": (str, lambda v, _: v.encode()),
        "varchar": (str, lambda v, _: v.encode()),
        "numeric": (Decimal, numeric_send),
        "timestamptz": (datetime, lambda v, _: _timestamptz(v)),
        "date": (date, lambda v, _: _I.pack(v.toordinal() - PG_EPOCH_ORDINAL)),
        "int4": (int, lambda v, _: _I.pack(v)),
    }
)
"""Per type: the one Python type its values have (exactly: no bool, no subclass) and
its binary send form."""


class Record:
    """The canonical record of one column list, with each column's sender looked up once."""

    __slots__ = ("_plan", "columns")

    def __init__(self, columns: Sequence[Column]) -> None:
        self.columns = tuple(columns)
        plan = []
        for c in self.columns:
            oid = c.oid.to_bytes(4, "big")
            kind, send = _SENDERS[c.kind]
            plan.append((oid, oid + b"\xff\xff\xff\xff", kind, send, c.scale))
        self._plan = tuple(plan)

    def __iter__(self) -> Iterator[Column]:
        return iter(self.columns)

    def send(self, row: Sequence[Any]) -> bytes:
        """The row's canonical bytes: what ``record_send(ROW(...))`` gives for it."""
        if len(row) != len(self._plan):
            raise ValueError(f"a row of {len(row)} values for {len(self._plan)} columns")
        parts = [_I.pack(len(self._plan))]
        append = parts.append
        for (oid, null, kind, send, scale), value in zip(self._plan, row, strict=True):
            if value is None:
                append(null)
                continue
            if type(value) is not kind:
                raise self._refusal(row, value)
            data = send(value, scale)
            append(oid)
            append(len(data).to_bytes(4, "big"))
            append(data)
        return b"".join(parts)

    def _refusal(self, row: Sequence[Any], value: Any) -> TypeError:
        at = next(k for k, v in enumerate(row) if v is value)
        column = self.columns[at]
        return TypeError(
            f"column {column.name} ({column.kind}) cannot hold a {type(value).__name__}"
        )


def record_send(columns: Sequence[Column] | Record, row: Sequence[Any]) -> bytes:
    """``Record(columns).send(row)``, for one row (a bulk caller keeps its ``Record``)."""
    record = columns if isinstance(columns, Record) else Record(columns)
    return record.send(row)


RECORDS: Mapping[str, Record] = MappingProxyType(
    {
        table_name(m): Record(
            [_column(c.name, c.type) for c in m.__table__.columns]  # type: ignore[attr-defined]
        )
        for m in DOMAIN_TABLES
    }
)
"""Each entity's columns in table order, as its canonical record types them."""
