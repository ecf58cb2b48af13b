"""Recording a split, merge or renumbering from the officer console (a form or JSON)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from models.application import RecordStore
from models.errors import NotFoundError
from models.ids import InvalidKeyError, ParcelKey
from models.places.lineage import LineageError
from models.record import Record
from pipeline.usecases.lineage import parse_parcels, record_change


class ChangeProblemError(ValueError):
    """A change the officer must correct; the message names the parcels or the field."""


def lines(text: str) -> list[str]:
    """A textarea's non-empty lines."""
    return [line.strip() for line in text.splitlines() if line.strip()]


class ChangeForm(BaseModel):
    """This parcel becomes `into` (split, renumber), or is merged with `merge_with` into
    `into`; parcels are `UNIT[:ERA]/SHEET/NUMBER[=AREA_M2]`."""

    kind: str = Field(pattern="^(split|merge|renumber)$")
    into: list[str] = Field(max_length=200)
    merge_with: list[str] = Field(default_factory=list, max_length=200)
    effective: str = Field(max_length=10)
    basis: str = Field(min_length=1, max_length=2000)
    basis_capture: str = Field(default="", max_length=64)


def record_change_of(
    store: RecordStore,
    parcel: Record,
    form: ChangeForm,
    *,
    basis_capture: str,
    recorded_by: str,
    tolerance: float,
) -> str | None:
    """Record the change `form` describes on `parcel`; returns the area warning, if any."""
    if parcel.kind != "parcel":
        raise ChangeProblemError("only parcels are split, merged or renumbered")
    this = ParcelKey.from_record_key(parcel.key)
    try:
        effective = date.fromisoformat(form.effective)
    except ValueError:
        raise ChangeProblemError(f"{form.effective!r} is not a date (YYYY-MM-DD)") from None
    try:
        others, _ = parse_parcels(form.merge_with, this.era)
        children, areas = parse_parcels(form.into, this.era)
        return record_change(
            store,
            form.kind,
            [this, *others] if form.kind == "merge" else [this],
            children,
            effective=effective,
            basis=form.basis,
            basis_capture=basis_capture or None,
            recorded_by=recorded_by,
            tolerance=tolerance,
            child_areas=areas,
            source=f"person:{recorded_by}",
        )
    except (InvalidKeyError, LineageError, NotFoundError) as e:
        raise ChangeProblemError(str(e)) from None
