"""`seed_data`: the command line (`main` is the console entry point).

Command modules import their services and flows inside the command (`# noqa: PLC0415
lazy: +N s`): measured with `python -X importtime`, each costs 0.2 s (audit) to 5 s
(Prefect), and at module level every command, `--help` and every argument error would
pay for all of them (`import seedbank.cli` stays near main's ~1.5 s instead of ~4 s).
"""

from seedbank.cli.main import app, main

__all__ = ["app", "main"]
