from __future__ import annotations

from tests.support.stackenv import apply_stack_env

apply_stack_env()
