"""`sohoa parcel` (a parcel valid on a date, with its lineage) and `sohoa lineage split|merge|
renumber` (record a change of lineage): thin edges over `pipeline.usecases.lineage`."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

import click

from models.errors import NotFoundError, NotYetRecordedError
from models.ids import InvalidKeyError, parcel_id
from models.places.lineage import LineageError
from pipeline.bootstrap import Services
from pipeline.usecases.lineage import parcel_on, parse_parcels, record_change
from pipeline.usecases.unit_lookup import UnknownUnitError, unit_keys
from scanners.cli.audit import audit_cli_read
from scanners.cli.main import _parse_time, main, services
from search.query import Query, QueryError


@dataclass(frozen=True)
class Times:
    """The two times a parcel is asked at: effective (`valid_on`) and recorded."""

    valid_on: date | None = None
    recorded: datetime | None = None

    def as_json(self) -> dict[str, str | None]:
        return {
            "as_of": self.valid_on.isoformat() if self.valid_on else None,
            "as_of_means": "effective date" if self.valid_on else None,
            "recorded_as_of": self.recorded.isoformat() if self.recorded else None,
        }


def run_parcel(
    svc: Services, unit: str, sheet: str, number: str, times: Times, as_json: bool
) -> int:
    """A parcel by the unit name or code on its papers, old or new, at the times asked."""
    try:
        candidates = unit_keys(svc.gazetteer, unit)
    except UnknownUnitError as e:
        raise click.ClickException(str(e)) from None
    found = []
    for code, era, label in candidates:
        try:
            pid = parcel_id(code, era, sheet, number)
        except InvalidKeyError as e:
            raise click.ClickException(str(e)) from None
        if (view := _parcel_view(svc, pid, times)) is not None:
            found.append({"unit": label, **view})
    asked = {"unit": unit, "sheet": sheet, "number": number}
    missing = f"no parcel {sheet}/{number} under {', '.join(c[2] for c in candidates)}"
    return _print_parcels(asked, times, found, as_json, missing)


def run_parcel_by_certificate(
    svc: Services, serial: str, registry: str, times: Times, as_json: bool
) -> int:
    """Parcels whose certificate has this serial and/or registry number (typed any way: "bv
    999451" is "BV 999451"), found through the index, shown from the record store."""
    query = Query(
        role="officer",
        filters={"kind": ["parcel"]},
        serial=serial.strip(),
        registry_number=registry.strip(),
        limit=100,
    )
    try:
        hits = svc.index.search(query).hits
    except QueryError as e:
        raise click.ClickException(str(e)) from None
    found = [v for h in hits if (v := _parcel_view(svc, UUID(h.id), times)) is not None]
    asked = {"serial": serial or None, "registry_number": registry or None}
    missing = "no parcel with that certificate number (is the index caught up? `sohoa follow`)"
    return _print_parcels(asked, times, found, as_json, missing)


def _parcel_view(svc: Services, pid: UUID, times: Times) -> dict | None:
    try:
        shown = parcel_on(svc.store, pid, valid_on=times.valid_on, recorded_as_of=times.recorded)
    except NotYetRecordedError:
        return {"id": str(pid), "state": "not yet recorded then"}
    except NotFoundError:
        return None
    audit_cli_read(svc, shown.record, "cli parcel")
    view = shown.view
    if view.get("existed") is False:
        view["state"] = f"did not exist yet on {times.valid_on} (it began {view['began']})"
    return view


def _print_parcels(
    asked: dict, times: Times, found: list[dict], as_json: bool, missing: str
) -> int:
    if as_json:
        click.echo(
            json.dumps(
                {"query": {**asked, **times.as_json()}, "parcels": found}, ensure_ascii=False
            )
        )
    elif not found:
        click.echo(missing)
    if not as_json and times.valid_on:
        click.echo(f"land facts in force on {times.valid_on} (effective date)")
    for p in [] if as_json else found:
        click.echo(json.dumps(p, ensure_ascii=False, indent=2))
    return 0 if found else 1


@main.command()
@click.option("--unit", help="Ward or commune name (old or new) or 5-digit code.")
@click.option("--sheet", help="Map sheet (tờ bản đồ số).")
@click.option("--number", help="Parcel number (thửa đất số).")
@click.option("--serial", default="", help="Or: the certificate's serial, typed any way.")
@click.option("--registry", default="", help="Or: the certificate's registry number.")
@click.option(
    "--as-of", "as_of", help="YYYY-MM-DD: the land facts in force on that day (effective date)."
)
@click.option(
    "--recorded-as-of",
    "recorded_as_of",
    help="ISO date or time: what the store had recorded by then (a date: its end).",
)
@click.option("--json", "as_json", is_flag=True)
def parcel(unit, sheet, number, serial, registry, as_of, recorded_as_of, as_json) -> None:
    """A land parcel by the names its papers carry, before or after the 2025 reorganisation,
    or by its certificate's serial or registry number; with its lineage and retirement."""
    from scanners.cli.catchup import catch_up_index

    times = Times(_day(as_of, "--as-of") if as_of else None, _recorded(recorded_as_of))
    if not (serial.strip() or registry.strip() or (unit and sheet and number)):
        raise click.UsageError("give --unit, --sheet and --number, or --serial or --registry")
    svc = services()
    catch_up_index(svc)  # on embedded defaults; else it says how far behind the index is
    if serial.strip() or registry.strip():
        sys.exit(run_parcel_by_certificate(svc, serial, registry, times, as_json))
    sys.exit(run_parcel(svc, unit, sheet, number, times, as_json))


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD", param_hint=option) from None


def _recorded(value: str | None) -> datetime | None:
    if not value:
        return None
    when = _parse_time(value)
    if len(value) <= 10:
        when = when.replace(hour=23, minute=59, second=59)  # a date means the end of that day
    return when


# -- recording a change of lineage ----------------------------------------------


@main.group()
def lineage() -> None:
    """Record a split (tách thửa), merge (hợp thửa) or renumbering of parcels.

    Parcels are written UNIT:ERA/SHEET/NUMBER (e.g. 00031:pre2025/12/45); a child may carry
    its area as UNIT:ERA/SHEET/NUMBER=AREA_M2."""


def _change_options(f):
    f = click.option("--json", "as_json", is_flag=True)(f)
    f = click.option("--basis-capture", default="", help="The capture id of the decision.")(f)
    f = click.option("--basis", required=True, help="Legal basis: decision, contract, judgment.")(f)
    f = click.option("--effective", required=True, help="YYYY-MM-DD: when it took effect.")(f)
    return f


@lineage.command()
@click.argument("parent")
@click.option("--into", "children", multiple=True, required=True, help="A new parcel (repeat).")
@_change_options
def split(parent, children, effective, basis, basis_capture, as_json) -> None:
    """PARENT is split into the --into parcels."""
    _record("split", [parent], children, effective, basis, basis_capture, as_json)


@lineage.command()
@click.argument("parents", nargs=-1, required=True)
@click.option("--into", "child", required=True, help="The merged parcel.")
@_change_options
def merge(parents, child, effective, basis, basis_capture, as_json) -> None:
    """PARENTS (two or more, of one unit) are merged into the --into parcel."""
    _record("merge", list(parents), [child], effective, basis, basis_capture, as_json)


@lineage.command()
@click.argument("parent")
@click.option("--to", "child", required=True, help="The parcel's new number.")
@_change_options
def renumber(parent, child, effective, basis, basis_capture, as_json) -> None:
    """PARENT is renumbered (a redrawn map sheet)."""
    _record("renumber", [parent], [child], effective, basis, basis_capture, as_json)


def _record(kind, parents, children, effective, basis, basis_capture, as_json) -> None:
    svc = services()
    try:
        parent_keys, _ = parse_parcels(parents, None)
        child_keys, areas = parse_parcels(children, parent_keys[0].era)
        warning = record_change(
            svc.store,
            kind,
            parent_keys,
            child_keys,
            effective=_day(effective, "--effective"),
            basis=basis,
            basis_capture=basis_capture,
            recorded_by=svc.settings.operator,
            tolerance=svc.settings.split_area_tolerance,
            child_areas=areas,
            source=f"cli:{svc.settings.operator}",
        )
    except (InvalidKeyError, LineageError, NotFoundError, ValueError) as e:
        raise click.ClickException(str(e)) from None
    data = {"kind": kind, "parents": parents, "children": list(children), "warning": warning}
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
    else:
        click.echo(f"{kind} recorded: {', '.join(parents)} → {', '.join(children)}")
    if warning:
        click.echo(f"warning: {warning}", err=True)
