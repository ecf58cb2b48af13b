"""Wiring of the statistics follower: the projection, its tables and the unit lookups."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pipeline.bootstrap import Services
from pipeline.dispatch.follower import Follower
from pipeline.projections.stats import NAME, StatsProjection
from pipeline.projections.tables import StatsTables

IDLE_S = 0.5
"""How often an idle statistics follower looks for new events (the dashboard is not live)."""


def stats_tables(services: Services) -> StatsTables:
    """The tables beside the services' event store (one per `Services`, created on first use)."""
    tables = services.__dict__.get("_stats_tables")
    if tables is None:
        tables = services.__dict__["_stats_tables"] = StatsTables.of(services.store)
    return tables


def stats_follower(services: Services, batch: int = 1000) -> Follower:
    """The follower that keeps the statistics tables; its position lives beside the counts."""
    projection = StatsProjection(
        services.store,
        stats_tables(services),
        record_unit=_site_unit(services),
        on_events=observe_events,
    )
    return Follower(NAME, services.store, projection, projection.handle, batch=batch)


def observe_events(events: Iterable[Any]) -> None:
    """The counters fed by statistics events (`pipeline.observability.metrics`), imported on
    the first batch: `sohoa status` reads the projections without loading Prometheus."""
    from pipeline.observability import metrics

    metrics.observe_events(events)


def rebuild(services: Services) -> int:
    """Drop the tables and count the whole log again; returns how many events it read."""
    tables = stats_tables(services)
    tables.drop()
    return stats_follower(services).catch_up()


def _site_unit(services: Services):
    if not services.settings.gazetteer_dir:
        return None

    from pipeline.dispatch.indexer import _unit_of

    def unit(record: Any) -> str:
        gazetteer = services.gazetteer
        found = _unit_of(gazetteer, record) if gazetteer is not None else None
        return found.key if found is not None else ""

    return unit
