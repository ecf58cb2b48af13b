"""Wiring of the indexer: search documents carry unit names of both administrative eras.

A heritage site filed under "Phường Giảng Võ" (2025) is found, and faceted, by the pre-2025
ward names it took over, and the other way round; a parcel keyed by an old unit code carries
the new ward's name. The gazetteer lives in `pipeline/`, so the enrichment is passed to the
search package's indexer as a function.
"""

from __future__ import annotations

from typing import Any

from models.places.gazetteer import Gazetteer
from models.places.units import Unit
from models.record import Record
from pipeline.bootstrap import Services
from pipeline.dispatch.follower import Follower
from pipeline.jobs.text import full_text
from search.index import SearchIndex
from search.indexer import IndexProjection

HANOI = "01"

IDLE_S = 0.05
"""How often an idle indexer looks for new events: what a search sees lags the log by this
plus one index commit (the dispatcher polls every 0.2 s; a job takes longer than that)."""

BATCH = 5000
"""Notifications per indexer round, one index commit each: following, a round holds what
arrived since the last (usually far fewer); catching up after an import, a commit per 5,000
events instead of per 1,000 keeps the index's segments and fsyncs few."""


def indexer(services: Services, index: SearchIndex | None = None) -> Follower:
    """The follower that keeps `index` (default: the configured one) up to date; its position
    lives in the index, so a rebuilt index carries its own."""
    target = index or services.index
    # the gazetteer loads on first use: `sohoa status` only asks this follower for its lag
    units = (
        (lambda record: unit_names(services.gazetteer, record))
        if (services.settings.gazetteer_dir)
        else None
    )
    projection = IndexProjection(
        services.store, target, text_for=lambda c: full_text(services, c) or "", units=units
    )
    return Follower("indexer", services.store, target, projection.handle, batch=BATCH)


def unit_names(gaz: Gazetteer, record: Record) -> dict[str, Any]:
    """`ward_old` and `ward_new` names for a record's unit, across the 2025 reorganisation."""
    unit = _unit_of(gaz, record)
    if unit is None:
        return {}
    if unit.era == "pre2025":
        old, new = [unit], [u for u, _link in gaz.successors(unit)]
    else:
        old, new = [u for u, _link in gaz.predecessors(unit)], [unit]
    return {"ward_old": sorted({u.name for u in old}), "ward_new": sorted({u.name for u in new})}


def _unit_of(gaz: Gazetteer, record: Record) -> Unit | None:
    if record.kind == "parcel":
        try:
            return gaz.by_code(record.key["unit_code"], record.key["era"])
        except KeyError:
            return None
    ward = record.attributes.get("ward")
    if not isinstance(ward, str) or not ward.strip():
        return None
    district = record.attributes.get("district")
    found = [u for u in gaz.find(ward, province=HANOI) if u.level == "commune"]
    if district and len(found) > 1:
        found = [
            u for u in gaz.find(ward, province=HANOI, district=district) if u.level == "commune"
        ] or found
    return found[0] if found else None
