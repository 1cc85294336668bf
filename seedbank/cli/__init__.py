"""`seed_data`: the command line (`main` is the console entry point)."""

from seedbank.cli.main import app, main

__all__ = ["app", "main"]
