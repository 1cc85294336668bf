"""The pure core: errors, the manifest, the table models, the run-policy guards.

No I/O, no environment, no clock; the only part of seedbank that `factories/` may import.
"""
