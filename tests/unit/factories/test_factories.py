"""factory-boy factories: same rows as the bulk path, traits, overrides, BUILD only."""

from __future__ import annotations

from decimal import Decimal

import pytest

from factories.banking import (
    FACTORIES,
    BankAccountFactory,
    ContractFactory,
    CreditLimitFactory,
    CustomerFactory,
    FactoryContext,
    InstallmentFactory,
    LoanFactory,
    default_context,
)
from factories.planner import TEST_ONLY_SALT, BatchSpec, generate_batch
from factories.spec import ENTITIES
from seedbank.domain.models import column_names
from tests.unit.factories.support import GOLDEN_SALT, golden_spec


def test_a_factory_for_every_entity() -> None:
    assert set(FACTORIES) == set(ENTITIES)


@pytest.mark.parametrize("entity", ENTITIES)
def test_factory_row_equals_bulk_row(entity: str) -> None:
    ctx = FactoryContext(golden_spec(), GOLDEN_SALT)
    index = golden_spec().count(entity) - 1
    built = FACTORIES[entity].build(ctx=ctx, index=index)
    bulk = generate_batch(ctx.spec, BatchSpec(entity, index, index + 1), GOLDEN_SALT).rows[0]
    model = type(built)
    assert tuple(getattr(built, c) for c in column_names(model)) == bulk


def test_traits_build_named_sad_paths() -> None:
    account = BankAccountFactory.build(overdrawn=True)
    assert account.status == "overdrawn"
    assert account.balance < 0
    assert LoanFactory.build(defaulted=True).status == "defaulted"
    assert ContractFactory.build(blocked=True).status == "blocked"
    limit = CreditLimitFactory.build(exceeded=True)
    assert limit.status == "exceeded"
    assert limit.used > limit.amount
    assert InstallmentFactory.build(overdue=True).status == "overdue"
    assert (
        BankAccountFactory.build(blocked=True, index=3).id == BankAccountFactory.build(index=3).id
    )


def test_overrides_of_non_pii_fields_are_kept() -> None:
    account = BankAccountFactory.build(index=0, balance=Decimal("10.00"), status="active")
    assert (account.balance, account.status) == (Decimal("10.00"), "active")


def test_unknown_fields_scenarios_and_create_are_refused() -> None:
    with pytest.raises(TypeError, match="no column"):
        CustomerFactory.build(nickname="x")
    with pytest.raises(ValueError, match="no scenario"):
        CustomerFactory.build(scenario="overdrawn")
    with pytest.raises(TypeError, match="only build"):
        CustomerFactory.create()


def test_default_context_is_test_only_and_refused_by_the_bulk_path() -> None:
    ctx = default_context()
    assert ctx.salt == TEST_ONLY_SALT
    with pytest.raises(ValueError, match="test-only salt"):
        generate_batch(ctx.spec, BatchSpec("customer", 0, 1), TEST_ONLY_SALT)


def test_developer_context_with_own_salt_and_spec() -> None:
    ctx = default_context(salt=b"my-own-local-salt-0001", tenant="beta", mode="load")
    a = CustomerFactory.build(ctx=ctx, index=0)
    b = CustomerFactory.build(ctx=default_context(tenant="beta", mode="load"), index=0)
    assert a.id == b.id
    assert a.email != b.email
