"""Format-preserving, verifiable pseudonyms: one ``mask_*`` / ``verify_*`` pair per kind.

Every masked value is ``body + tag``. The body is drawn from
HMAC-SHA256(k_body, value) and the tag from HMAC-SHA256(k_tag, body), where both keys
are HMAC-SHA256(salt, role, tenant, entity.field) (see ``FieldKeys``). The verifier
sees only the value, recomputes the tag from the body and compares: without the salt,
a value passes only by guessing the tag. Forgery probability below is for one value
drawn by someone without the salt (uniformly within the accepted shape); values that
do not have the reserved shape (a real email domain, a real DDD, a real CEP prefix)
are always rejected. Business keys (CPF, e-mail, phone) are not here: they are the
row's index, format-preserving encrypted (``factories.pii.keyed``), so they never collide.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date

from factories.pools import STREET_TYPES, Pools

EMAIL_DOMAIN = "example.com"  # RFC 2606 reserved: never a real mailbox
PHONE_PREFIX = "+55 00 9"  # DDD 00 is not assigned in Brazil
ZIP_PREFIX = "00"  # no CEP starts with 00
ADULT_MONTHS = 18 * 12
OLDEST_MONTHS = 90 * 12

_ZIP = re.compile(ZIP_PREFIX + r"(\d{3})(\d{3})")


class Hmac256:
    """HMAC-SHA256 with the key's pad blocks absorbed once (RFC 2104; ~2x faster).

    Equal to ``hmac.digest(key, msg, "sha256")`` (tested); the per-call key setup of
    the one-shot API dominates short messages like these.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def digest(self, msg: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(msg)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


@dataclass(frozen=True)
class FieldKeys:
    body: Hmac256
    tag: Hmac256

    @classmethod
    def derive(cls, salt: bytes, tenant: str, field: str) -> FieldKeys:
        """HMAC-SHA256(salt, tenant, field, ·) split into a body key and a tag key."""

        def key(role: str) -> Hmac256:
            material = f"seedbank-pii/{role}\x1f{tenant}\x1f{field}".encode()
            return Hmac256(hmac.digest(salt, material, "sha256"))

        return cls(key("body"), key("tag"))


def _mac(key: Hmac256, msg: str) -> int:
    return int.from_bytes(key.digest(msg.encode()), "big")


def _pick_other(pool: tuple[str, ...], exclude_at: int, r: int) -> str:
    """A token of ``pool`` other than ``pool[exclude_at]`` (no 'Costa Costa')."""
    i = r % (len(pool) - 1)
    return pool[i + 1 if i >= exclude_at else i]


# --- NAME: "Given1 Given2 Surname1 Surname2" -------------------------------------
# body = (Given1, Surname1); tag = (Given2 of the same gender, Surname2).
# Forgery: 1 / ((|gender pool| - 1) * (|surnames| - 1)) ~ 1 / (106 * 89) ~ 1.1e-4.


def _name_tag(keys: FieldKeys, p: Pools, g1: str, s1: str) -> tuple[str, str]:
    t = _mac(keys.tag, f"{g1} {s1}")
    pool = p.female if g1 in p.female_set else p.male
    return _pick_other(pool, p.position[g1], t), _pick_other(p.surnames, p.position[s1], t >> 64)


def mask_name(keys: FieldKeys, p: Pools, value: str) -> str:
    h = _mac(keys.body, value)
    pool = p.female if h & 1 else p.male
    g1 = pool[(h >> 8) % len(pool)]
    s1 = p.surnames[(h >> 40) % len(p.surnames)]
    g2, s2 = _name_tag(keys, p, g1, s1)
    return f"{g1} {g2} {s1} {s2}"


def verify_name(keys: FieldKeys, p: Pools, value: str) -> bool:
    parts = value.split(" ")
    if len(parts) != 4:
        return False
    g1, g2, s1, s2 = parts
    if not (g1 in p.female_set or g1 in p.male_set) or s1 not in p.surname_set:
        return False
    return _name_tag(keys, p, g1, s1) == (g2, s2)


# --- STREET: "<Type> Given Surname1 Surname2" -------------------------------------
# body = (Given, Surname1); tag = (Type of 8, Surname2).
# Forgery: 1 / (8 * (|surnames| - 1)) ~ 1 / 712 ~ 1.4e-3.


def _street_tag(keys: FieldKeys, p: Pools, given: str, s1: str) -> tuple[str, str]:
    t = _mac(keys.tag, f"{given} {s1}")
    return STREET_TYPES[t % len(STREET_TYPES)], _pick_other(p.surnames, p.position[s1], t >> 64)


def mask_street(keys: FieldKeys, p: Pools, value: str) -> str:
    h = _mac(keys.body, value)
    given = p.given[h % len(p.given)]
    s1 = p.surnames[(h >> 32) % len(p.surnames)]
    kind, s2 = _street_tag(keys, p, given, s1)
    return f"{kind} {given} {s1} {s2}"


def verify_street(keys: FieldKeys, p: Pools, value: str) -> bool:
    parts = value.split(" ")
    given = parts[1] if len(parts) == 4 else ""
    if not (given in p.female_set or given in p.male_set) or parts[2] not in p.surname_set:
        return False
    return _street_tag(keys, p, parts[1], parts[2]) == (parts[0], parts[3])


# --- ZIP (CEP): "00" + 3 body digits + 3 tag digits ----------------------------------
# Forgery: 1e-3 within the reserved 00 prefix; a real CEP is always rejected.


def _zip_tag(keys: FieldKeys, body: str) -> str:
    return f"{_mac(keys.tag, body) % 1000:03d}"


def mask_zip(keys: FieldKeys, value: str) -> str:
    body = f"{_mac(keys.body, value) % 1000:03d}"
    return f"{ZIP_PREFIX}{body}{_zip_tag(keys, body)}"


def verify_zip(keys: FieldKeys, value: str) -> bool:
    m = _ZIP.fullmatch(value)
    return m is not None and _zip_tag(keys, m[1]) == m[2]


# --- BIRTH_DATE: year-month shifted by +-24 months, day = tag ------------------------
# The masked person is 18..90 years old at as_of. Forgery: 1/28 for a date with
# day <= 28 (a date carries ~15 bits; the day is all the room there is for a tag);
# real birthdays on days 29..31 are always rejected.


def _day_tag(keys: FieldKeys, year: int, month: int) -> int:
    return _mac(keys.tag, f"{year:04d}-{month:02d}") % 28 + 1


def mask_birth_date(keys: FieldKeys, value: date, as_of: date) -> date:
    now = as_of.year * 12 + as_of.month - 1
    months = value.year * 12 + value.month - 1 + _mac(keys.body, value.isoformat()) % 49 - 24
    months = min(max(months, now - OLDEST_MONTHS), now - ADULT_MONTHS - 1)
    year, month0 = divmod(months, 12)
    return date(year, month0 + 1, _day_tag(keys, year, month0 + 1))


def verify_birth_date(keys: FieldKeys, value: date) -> bool:
    return value.day == _day_tag(keys, value.year, value.month)
