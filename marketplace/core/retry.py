"""Retry timing for Celery tasks that must act before retrying (give a claimed job back,
mark the final failure). Tasks that only retry use Celery's own ``autoretry_for`` with
``retry_backoff`` / ``retry_backoff_max`` / ``retry_jitter=False``, which waits the same."""

from __future__ import annotations


def backoff(retries: int, *, base: int, cap: int) -> int:
    """Seconds before the next try: ``base * 2**retries``, at most ``cap``."""
    return min(cap, base * 2**retries)
