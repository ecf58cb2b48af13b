"""Retry a capture's failed stages."""

from __future__ import annotations

from uuid import UUID

from pipeline.bootstrap import Services


def retry_failed(services: Services, capture_id: UUID, requested_by: str) -> list[str]:
    """Ask for a capture's failed stages to run again; returns their names (none: no-op)."""
    return services.store.retry(capture_id, requested_by)
