"""Wiring of the indexer: search documents carry unit names of both administrative eras.

A heritage site filed under "Phường Giảng Võ" (2025) is found, and faceted, by the pre-2025
ward names it took over, and the other way round; a parcel keyed by an old unit code carries
the new ward's name. The gazetteer lives in `pipeline/`, so the enrichment is passed to the
search package's indexer as a function.
"""

from __future__ import annotations

from typing import Any

from models.record import Record
from pipeline.bootstrap import Services
from pipeline.gazetteer import Gazetteer, Unit
from search.index import SearchIndex
from search.indexer import Indexer

HANOI = "01"


def indexer(services: Services, index: SearchIndex | None = None) -> Indexer:
    gaz = services.gazetteer
    return Indexer(
        services.store,
        index or services.index,
        units=(lambda record: unit_names(gaz, record)) if gaz else None,
    )


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
