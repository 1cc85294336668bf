"""Business-key PII (CPF, e-mail, phone): the row's index, format-preserving encrypted.

The value is ``E_k(slot * SLOT + index)`` in the field's format, where ``E_k`` is a
``DigitPermutation`` keyed by HMAC-SHA256(salt, tenant, entity.field) (``perm_key``):
distinct rows of a tenant get distinct values by construction, at any volume. The
proof that a value was masked is that it decrypts under the tenant's key to a row
index below the entity's count in a mode slot. Forgery odds for someone without the
salt (one value drawn uniformly in the accepted shape) are count / domain:

- CPF: 9 permuted digits + 2 valid check digits; domain 10**9 - 10 (bases of one
  repeated digit are invalid CPFs: cycle-walked out). 50 k customers: 5e-5.
- e-mail: "<given>.<surname>.<10 permuted digits>@example.com"; domain 10**10, and
  the two names are an HMAC tag of the digits: count / 10**10 / (|given| x |surnames|)
  (50 k customers: ~3e-10).
- phone: "+55 00 9XXXX-XXXX", 8 permuted digits; domain 10**8. 50 k customers: 5e-4,
  1 k advisors: 1e-5. DDD 00 is not assigned, so a real phone is always rejected.

Summed over the mode slots whose datasets exist. A checker told no counts bounds every
slot by ``fpe.DEFAULT_BOUND`` (10**6): CPF 3e-3, phone 3e-2 at worst; pass the counts.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping

from factories.keys import cpf_check_digits
from factories.pii.formats import EMAIL_DOMAIN, PHONE_PREFIX, Hmac256
from factories.pii.fpe import DigitPermutation, index_below
from factories.pools import Pools

CPF_DIGITS, EMAIL_DIGITS, PHONE_DIGITS = 9, 10, 8

_CPF = re.compile(r"\d{11}")
_EMAIL = re.compile(rf"([a-z]+)\.([a-z]+)\.(\d{{{EMAIL_DIGITS}}})@" + re.escape(EMAIL_DOMAIN))
_PHONE = re.compile(re.escape(PHONE_PREFIX) + r"(\d{4})-(\d{4})")


def perm_key(salt: bytes, tenant: str, field: str) -> bytes:
    """The permutation key of one tenant's field: HMAC-SHA256(salt, tenant, field)."""
    return hmac.digest(salt, f"seedbank-pii/perm\x1f{tenant}\x1f{field}".encode(), "sha256")


def _cpf_base_is_valid(x: int) -> bool:
    return x % 111_111_111 != 0  # 000000000, 111111111, ..., 999999999


def cpf_permutation(key: bytes) -> DigitPermutation:
    return DigitPermutation(key, CPF_DIGITS, valid=_cpf_base_is_valid)


def email_permutation(key: bytes) -> DigitPermutation:
    return DigitPermutation(key, EMAIL_DIGITS)


def phone_permutation(key: bytes) -> DigitPermutation:
    return DigitPermutation(key, PHONE_DIGITS)


Bounds = Mapping[int, int] | None
"""Mode slot -> the entity's count in that slot's dataset (see ``fpe.index_below``)."""


def _proves(perm: DigitPermutation, y: int, bounds: Bounds) -> bool:
    return index_below(perm.decrypt(y), bounds)


def mask_cpf(perm: DigitPermutation, x: int) -> str:
    base = f"{perm.encrypt(x):09d}"
    return base + cpf_check_digits(base)


def verify_cpf(perm: DigitPermutation, value: str, bounds: Bounds) -> bool:
    if not _CPF.fullmatch(value) or cpf_check_digits(value[:9]) != value[9:]:
        return False
    base = int(value[:9])
    return _cpf_base_is_valid(base) and _proves(perm, base, bounds)


def _email_names(tag: Hmac256, p: Pools, digits: str) -> tuple[str, str]:
    t = int.from_bytes(tag.digest(digits.encode()), "big")
    return p.ascii[p.given[t % len(p.given)]], p.ascii[p.surnames[(t >> 32) % len(p.surnames)]]


def mask_email(perm: DigitPermutation, tag: Hmac256, p: Pools, x: int) -> str:
    digits = f"{perm.encrypt(x):0{EMAIL_DIGITS}d}"
    given, surname = _email_names(tag, p, digits)
    return f"{given}.{surname}.{digits}@{EMAIL_DOMAIN}"


def verify_email(
    perm: DigitPermutation, tag: Hmac256, p: Pools, value: str, bounds: Bounds
) -> bool:
    m = _EMAIL.fullmatch(value)
    if m is None or _email_names(tag, p, m[3]) != (m[1], m[2]):
        return False
    return _proves(perm, int(m[3]), bounds)


def mask_phone(perm: DigitPermutation, x: int) -> str:
    digits = f"{perm.encrypt(x):0{PHONE_DIGITS}d}"
    return f"{PHONE_PREFIX}{digits[:4]}-{digits[4:]}"


def verify_phone(perm: DigitPermutation, value: str, bounds: Bounds) -> bool:
    m = _PHONE.fullmatch(value)
    return m is not None and _proves(perm, int(m[1] + m[2]), bounds)
