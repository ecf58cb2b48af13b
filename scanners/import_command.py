"""`sohoa import FILE`: register existing parcel and site data as records, with a progress bar."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from pipeline.bootstrap import Services
from pipeline.errors import InputRejectedError
from pipeline.importer import ImportRow, count_rows, import_records


def run_import(
    svc: Services, path: Path, as_json: bool, defaults: Mapping[str, Any] | None = None
) -> int:
    """Import `path`; 1 if any row was rejected (or the file cannot be read), else 0.

    `--json`: one object per row on stdout (line, where, status, record_id, error).
    Text: rejected rows on stderr and a summary line on stdout.
    """
    total = count_rows(path)
    with tqdm(
        total=total,
        desc="importing",
        unit=" rows",
        file=sys.stderr,
        disable=not sys.stderr.isatty() and as_json,
    ) as bar:

        def on_row(row: ImportRow) -> None:
            if as_json:
                click.echo(json.dumps(row.to_json(), ensure_ascii=False))
            elif row.status in ("rejected", "failed"):
                bar.write(f"{row.status} {path.name} {row.where}: {row.error}", file=sys.stderr)
            bar.update(1)

        try:
            report = import_records(svc.store, path, on_row=on_row, defaults=defaults)
        except InputRejectedError as e:
            raise click.ClickException(str(e)) from None
    if not as_json:
        click.echo(report.summary())
    return 1 if report.rejected else 0
