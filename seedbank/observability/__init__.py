"""Logging, tracing, metrics, alerts, progress and the redaction they all apply."""
