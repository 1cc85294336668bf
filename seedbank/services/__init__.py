"""Use cases: take the wiring, return values; never read the environment."""
