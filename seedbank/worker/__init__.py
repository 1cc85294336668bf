"""Celery: the app, its configuration and the batch job."""
