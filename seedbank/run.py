"""Placeholder: the seed run lands with the `seed` flow."""

from __future__ import annotations

from typing import Any

from seedbank.errors import SeedbankError


def run_seed(*_args: Any, **_kwargs: Any) -> None:
    raise SeedbankError("the seed run is not implemented yet", fix="see issue 4")
