"""Business keys are unique by construction (issue 14): CPF, e-mail, phone and CNPJ are a
keyed permutation of (mode slot, row index), checked here over 10**6 indices per format.

Those 10**6 indices are 10x the customer hard cap (500 k) in the baseline slot plus
250 k in each of the load and DR slots, so the three datasets of a tenant never clash
either. The permutation is evaluated in bulk from its tabulated round function (each
Feistel half is at most 10**5 values), and that bulk evaluation is checked equal to the
masker's own per-row output on a sample, so the uniqueness shown is the masker's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from itertools import repeat
from operator import add, floordiv, mod, mul

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from seedbank.domain.manifest import HARD_CAPS

from factories.context import RowContext
from factories.keys import cpf_check_digits
from factories.pii import Masker, PiiChecker
from factories.pii import keyed as k
from factories.pii.fpe import SLOT, DigitPermutation, plaintext
from factories.pii.keyed import perm_key
from factories.rows.parties import supplier
from tests.unit.factories.support import GOLDEN_SALT, golden_spec

TENANT = "acme-bank"
INDICES = 10**6
TEN_X_CAP = 10 * HARD_CAPS["customer"]
PLAINTEXTS = [
    *(plaintext(1, i) for i in range(TEN_X_CAP)),
    *(plaintext(s, i) for s in (2, 3) for i in range((INDICES - TEN_X_CAP) // 2)),
]


def bulk_encrypt(perm: DigitPermutation, xs: list[int], rounds: int = 10) -> list[int]:
    """``perm.encrypt`` of every x, with each round's function tabulated once."""
    u = perm.digits // 2
    mu, mv = 10**u, 10 ** (perm.digits - u)
    mods = [mu if r % 2 == 0 else mv for r in range(rounds)]
    sizes = [mv if r % 2 == 0 else mu for r in range(rounds)]  # the half F reads
    tables = [[perm.round_value(r, h) % mods[r] for h in range(sizes[r])] for r in range(rounds)]

    def once(values: list[int]) -> list[int]:
        # map() over builtins keeps every step in C: ~10x a comprehension.
        a = list(map(floordiv, values, repeat(mv)))
        b = list(map(mod, values, repeat(mv)))
        for table, m in zip(tables, mods, strict=True):
            a, b = b, list(map(mod, map(add, a, map(table.__getitem__, b)), repeat(m)))
        return list(map(add, map(mul, a, repeat(mv)), b))

    out = once(xs)
    walk = [i for i, y in enumerate(out) if perm.digits == 9 and y % 111_111_111 == 0]
    while walk:  # cycle-walking, as the CPF permutation does
        again = once([out[i] for i in walk])
        for i, y in zip(walk, again, strict=True):
            out[i] = y
        walk = [i for i in walk if out[i] % 111_111_111 == 0]
    return out


def _masker(mode: str = "baseline") -> Masker:
    return Masker(GOLDEN_SALT, TENANT, date(2025, 3, 15), mode)


# The digits each format renders injectively (zero-padded; a CPF's check digits are a
# function of its base), so distinct integers are distinct values.
CASES: dict[str, tuple[Callable[[bytes], DigitPermutation], Callable[[int], str]]] = {
    "customer.cpf": (k.cpf_permutation, lambda y: (b := f"{y:09d}") + cpf_check_digits(b)),
    "customer.email": (k.email_permutation, lambda y: f"{y:010d}"),
    "customer.phone": (k.phone_permutation, lambda y: f"{y:08d}"),
}


@pytest.mark.parametrize("field", sorted(CASES))
def test_a_million_indices_give_a_million_distinct_values(field: str) -> None:
    make, render = CASES[field]
    perm = make(perm_key(GOLDEN_SALT, TENANT, field))
    ints = bulk_encrypt(perm, PLAINTEXTS)
    assert len(set(ints)) == INDICES  # 0 duplicates
    assert min(ints) >= 0
    assert max(ints) < perm.domain
    if field == "customer.cpf":
        assert not any(y % 111_111_111 == 0 for y in ints)  # never one repeated digit
    values = {pos: render(ints[pos]) for pos in range(0, TEN_X_CAP, TEN_X_CAP // 97)}
    # The bulk evaluation is the masker's: same value for a sample of rows of each slot.
    masker, entity, name = _masker(), *field.split(".")
    for pos, value in values.items():
        masked = str(masker.mask(entity, name, None, pos))
        assert value in masked.replace("-", ""), (pos, masked)


def test_a_million_supplier_cnpjs_are_distinct() -> None:
    rc = RowContext(golden_spec(), GOLDEN_SALT)
    bases = bulk_encrypt(rc.cnpj_bases, PLAINTEXTS)
    assert len(set(bases)) == INDICES
    for pos in range(0, TEN_X_CAP, TEN_X_CAP // 97):
        assert supplier(rc, pos)[5][:8] == f"{bases[pos]:08d}"


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["baseline", "load", "dr"]),
    st.integers(0, SLOT - 1),
    st.sampled_from(["baseline", "load", "dr"]),
    st.integers(0, SLOT - 1),
)
def test_two_distinct_rows_never_share_a_key_and_each_proves_itself(
    mode_a: str, i: int, mode_b: str, j: int
) -> None:
    a, b = _masker(mode_a), _masker(mode_b)
    checker = PiiChecker(
        GOLDEN_SALT, TENANT, {m: {"customer": SLOT} for m in ("baseline", "load", "dr")}
    )
    for field in ("cpf", "email", "phone"):
        va, vb = a.mask("customer", field, None, i), b.mask("customer", field, None, j)
        assert (va == vb) == ((mode_a, i) == (mode_b, j))
        assert checker.is_masked("customer", field, va)
