"""`sohoa export parcels`: parcels for the land database (GeoPackage or GeoJSON)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from pipeline.usecases.export import FORMATS, export_parcels
from scanners.cli.main import main, services


@main.group()
def export() -> None:
    """Export records for other systems."""


@export.command()
@click.option(
    "--format", "fmt", type=click.Choice(sorted(FORMATS)), default="gpkg", show_default=True
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default parcels.<format>).",
)
@click.option(
    "--role",
    type=click.Choice(["public", "officer"]),
    default="public",
    show_default=True,
    help="officer: with the restricted columns (owners, certificate numbers); audited.",
)
@click.option(
    "--as-of",
    "as_of",
    help="YYYY-MM-DD: the parcels and values in force that day (effective date).",
)
@click.option("--json", "as_json", is_flag=True)
def parcels(fmt: str, output: Path | None, role: str, as_of: str | None, as_json: bool) -> None:
    """Parcels with VBDLIS field names, lineage and provenance columns (GDAL via pyogrio);
    GeoPackage in VN-2000 / TM-3 105° (EPSG:5897), GeoJSON in WGS 84."""
    from pipeline.usecases.accounts import Principal, record_restricted_read

    try:
        valid_on = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise click.BadParameter(
            f"{as_of!r} is not a date YYYY-MM-DD", param_hint="--as-of"
        ) from None
    svc = services()
    path = output or Path(f"parcels.{fmt}")
    # the officer's rights are the operator's here; what was exported is on the audit trail
    report = export_parcels(
        svc.store, path, fmt, role="operator" if role == "officer" else role, valid_on=valid_on
    )
    if report.restricted:
        who = Principal(svc.settings.operator or "operator", "operator")
        record_restricted_read(
            svc.store,
            who,
            f"export:{path.name}",
            ["restricted attributes"],
            "cli export parcels",
            "cli",
        )
    data = {
        "file": str(path),
        "format": fmt,
        "parcels": report.parcels,
        "without_geometry": report.without_geometry,
        "restricted_columns": report.restricted,
        "crs": report.crs,
        "as_of": as_of,
    }
    text = (
        f"{report.parcels} parcels → {path} ({report.crs}; {report.without_geometry} without "
        f"geometry; restricted columns: {'yes' if report.restricted else 'no'})"
    )
    click.echo(json.dumps(data, ensure_ascii=False) if as_json else text)
