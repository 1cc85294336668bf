"""The `/api/v1` read contract, its reference read service and their helpers."""
