"""`sohoa import FILE`: register existing parcel and site data as records, with a progress bar."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from pipeline.bootstrap import Services
from pipeline.errors import InputRejectedError
from pipeline.usecases.importing.readers import count_rows
from pipeline.usecases.importing.records import import_records
from pipeline.usecases.importing.rows import ImportRow
from scanners.cli.main import main, services
from scanners.cli.progress import progress_bar


def run_import(
    svc: Services, path: Path, as_json: bool, defaults: Mapping[str, Any] | None = None
) -> int:
    """Import `path`; 1 if any row was rejected (or the file cannot be read), else 0.

    `--json`: one object per row on stdout (line, where, status, record_id, error).
    Text: rejected rows on stderr and a summary line on stdout.
    """
    total = count_rows(path)
    with progress_bar(total=total, desc="importing", unit=" rows", disable=as_json) as bar:

        def on_row(row: ImportRow) -> None:
            if as_json:
                click.echo(json.dumps(row.to_json(), ensure_ascii=False))
            elif row.status in ("rejected", "failed"):
                bar.write(f"{row.status} {path.name} {row.where}: {row.error}", file=sys.stderr)
            if row.warning and not as_json:
                bar.write(f"warning {path.name} {row.where}: {row.warning}", file=sys.stderr)
            bar.update(1)

        try:
            report = import_records(
                svc.store,
                path,
                on_row=on_row,
                defaults=defaults,
                recorded_by=svc.settings.operator,
                split_area_tolerance=svc.settings.split_area_tolerance,
            )
        except InputRejectedError as e:
            raise click.ClickException(str(e)) from None
    if not as_json:
        click.echo(report.summary())
    return 1 if report.rejected else 0


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--set",
    "defaults",
    multiple=True,
    metavar="FIELD=VALUE",
    help="A field for every row that lacks it (e.g. unit_code=10354).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per row on stdout.")
def import_(file: Path, defaults: tuple[str, ...], as_json: bool) -> None:
    """Register parcels or heritage sites from JSON Lines, CSV or GeoJSON."""
    from scanners.cli.importing import run_import

    pairs = {}
    for d in defaults:
        field, sep, value = d.partition("=")
        if not sep or not field:
            raise click.BadParameter(f"{d!r} is not FIELD=VALUE", param_hint="--set")
        pairs[field.strip()] = value
    sys.exit(run_import(services(), file, as_json, defaults=pairs or None))
