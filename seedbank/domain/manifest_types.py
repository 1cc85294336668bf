"""Bounded, strict field types of the manifest (pure).

Every value a manifest may hold is bounded so that each step downstream (the plan's
arithmetic, the expiry, the factories' dates) works for every accepted value: no
bool read as a number, no unbounded int, no infinite or 10^-999999999 decimal, no
control character, and times and time zones only in the forms the runtime reads.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any
from zoneinfo import available_timezones

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, StrictInt

SHOWN = 40
"""At most this many characters of a refused value are quoted back."""


def shown(value: object) -> str:
    """A refused value as quoted in a message: short, one line, printable."""
    text = value if isinstance(value, str) else repr(value)
    cut = text[:SHOWN] + ("…" if len(text) > SHOWN else "")
    return repr(cut)


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number, not true/false")
    return value


def _printable(value: str) -> str:
    if not value.isprintable():
        raise ValueError("must not contain control characters or NUL")
    return value


#: Counts and caps: the hard caps are far below this; it only keeps products small.
Count = Annotated[StrictInt, Field(ge=0, le=10_000_000)]
Positive = Annotated[StrictInt, Field(gt=0, le=10_000_000)]
Version = Annotated[StrictInt, Field(ge=1, le=1_000_000)]
Hours = Annotated[StrictInt, Field(gt=0, le=24 * 366)]
"""TTL hours: at most a year, so started_at + hours stays a valid datetime."""
Seconds = Annotated[float, BeforeValidator(_no_bool), Field(allow_inf_nan=False)]
Money = Annotated[
    Decimal,
    BeforeValidator(_no_bool),
    Field(allow_inf_nan=False, max_digits=18, decimal_places=6),
]
Text = Annotated[str, Field(strict=True, min_length=1, max_length=64), AfterValidator(_printable)]

AS_OF_MIN = datetime.fromisoformat("1990-01-01T00:00:00+00:00")
AS_OF_MAX = datetime.fromisoformat("2100-01-01T00:00:00+00:00")
"""as_of range: loans of up to 480 months and 10-year histories stay within datetime."""


def _as_of_text(value: Any) -> Any:
    if not isinstance(value, str | datetime):
        raise ValueError('must be a quoted ISO 8601 date-time, e.g. "2026-06-30T12:00:00-03:00"')
    return value


def _as_of_range(value: datetime) -> datetime:
    if not AS_OF_MIN <= value < AS_OF_MAX:
        raise ValueError("must be between 1990-01-01 and 2100-01-01")
    return value


AsOf = Annotated[AwareDatetime, BeforeValidator(_as_of_text), AfterValidator(_as_of_range)]

_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])(:00)?")
"""HH:MM as written; HH:MM:00 as the run's stored manifest (JSON) holds it."""


def _clock(value: Any) -> time:
    if isinstance(value, time):
        return value
    match = _HHMM.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError('must be a quoted time "HH:MM" (24 h), e.g. start: "22:00"')
    return time(int(match[1]), int(match[2]))


Clock = Annotated[time, BeforeValidator(_clock)]


@lru_cache(maxsize=1)
def iana_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _zone(value: Any) -> str:
    if not isinstance(value, str) or value not in iana_zones():
        raise ValueError(f"{shown(value)} is not an IANA time zone, e.g. America/Sao_Paulo")
    return value


Zone = Annotated[str, BeforeValidator(_zone)]
