"""`sohoa ingest`: collect inputs, ingest with a progress bar, summarise, optionally wait."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from uuid import UUID

import click

from models.capture import KINDS
from pipeline.bootstrap import Services
from pipeline.errors import InputRejectedError
from pipeline.media.sniff import ZIP, sniff_file
from pipeline.settings import Settings
from pipeline.usecases.ingest import Ingestor, IngestResult
from pipeline.usecases.inputs import collect
from pipeline.usecases.sidecar import read_meta_file
from scanners.cli.main import main, services
from scanners.cli.processes import _embedded_runtime, _stop_on_signals
from scanners.cli.progress import progress_bar


def ingestor(svc: Services) -> Ingestor:
    s = svc.settings
    return Ingestor(svc.store, svc.blobs, s.limits, s.data_dir / "tmp", s.operator, s.station)


def is_zip(path: Path) -> bool:
    try:
        return sniff_file(path) == ZIP
    except OSError:
        return False


def run_ingest(
    svc: Services,
    paths: list[Path],
    kind: str | None,
    meta_file: Path | None,
    wait: bool,
    as_json: bool,
) -> int:
    """Exit code 1 if anything was rejected or failed (the rest still ingests), else 0.

    Every input gets exactly one verdict line, whatever it holds: a parser's or our own bug on
    one file is that file's `failed: internal error <id>` (traceback in the log), never the end
    of the batch."""
    try:
        meta = read_meta_file(meta_file) if meta_file else None
    except InputRejectedError as e:
        raise click.ClickException(str(e)) from None
    # on memory:// the pipeline runs here: started first, it works on the first captures (and
    # its page pool loads) while the rest are still being ingested
    runtime = _embedded_runtime(svc) if wait else None
    try:
        results = ingest_paths(svc, paths, kind, meta, as_json)
        if wait:
            settle(svc, [UUID(r.capture_id) for r in results if r.capture_id], as_json)
    finally:
        if runtime:
            runtime.stop()
    return 1 if any(r.status in ("rejected", "failed") for r in results) else 0


def ingest_paths(
    svc: Services, paths: list[Path], kind: str | None, meta, as_json: bool
) -> list[IngestResult]:
    items = list(collect(paths, kind, is_zip, svc.settings.limits))
    results: list[IngestResult] = []
    ing = ingestor(svc)
    with progress_bar(total=len(items), desc="ingesting", unit=" files") as bar:
        for item in items:
            for result in ing.ingest_item(item, meta):
                results.append(result)
                if as_json:
                    click.echo(result.to_json())
                elif result.status in ("rejected", "failed"):
                    bar.write(f"{result.status} {result.path}: {result.error}", file=sys.stderr)
            bar.update(1)
    counts = Counter(r.status for r in results)
    if not as_json:
        click.echo(
            f"{counts['ingested']} ingested, {counts['duplicate']} duplicate, "
            f"{counts['rejected']} rejected"
            + (f", {counts['failed']} failed" if counts["failed"] else "")
        )
    return results


def wait_for(svc: Services, capture_ids: list[UUID], as_json: bool) -> dict[UUID, str]:
    """Until every capture's planned stages have finished or failed (runs them here on memory://)."""
    runtime = _embedded_runtime(svc)
    try:
        return settle(svc, capture_ids, as_json)
    finally:
        if runtime:
            runtime.stop()


def settle(svc: Services, capture_ids: list[UUID], as_json: bool) -> dict[UUID, str]:
    """Until every capture's planned stages have finished or failed, with a progress bar."""
    from workers.runtime import wait_until_settled

    with progress_bar(total=len(set(capture_ids)), desc="processing", unit=" captures") as bar:
        states = wait_until_settled(svc, set(capture_ids), on_progress=lambda *_: bar.update(1))
    if not as_json:
        counts = Counter(states.values())
        click.echo(
            f"processed: {counts['done']} done, {counts['partial']} partial, "
            f"{counts['failed']} failed"
        )
    return states


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    help="What the captures are, where content alone cannot tell.",
)
@click.option(
    "--meta",
    "meta_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A JSON object for every input, or a CSV manifest with a 'path' column.",
)
@click.option(
    "--wait", is_flag=True, help="Return when every job the new captures caused has finished."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per input on stdout.")
def ingest(
    paths: tuple[Path, ...], kind: str | None, meta_file: Path | None, wait: bool, as_json: bool
) -> None:
    """Ingest files, folders and ZIPs as captures."""
    from scanners.cli.ingest import run_ingest

    sys.exit(run_ingest(services(), list(paths), kind, meta_file, wait, as_json))


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(KINDS))
@click.option("--once", is_flag=True, help="Take what is stable now, then exit.")
def watch(folder: Path, kind: str | None, once: bool) -> None:
    """Hot folder: ingest stable files, move them to done/ or rejected/."""
    from scanners.hotfolder import HotFolder

    svc = services()
    runtime = _embedded_runtime(svc)
    stop = _stop_on_signals()
    try:
        HotFolder(svc, folder, kind).run(stop, once=once)
    finally:
        if runtime:
            runtime.stop()


@main.command()
@click.option("--fresh", is_flag=True, help="Start from an empty demo data folder.")
def demo(fresh: bool) -> None:
    """Ingest bundled and generated samples on embedded defaults and show what happened."""
    from scanners.demo import run_demo

    sys.exit(run_demo(Settings.from_env(), fresh))
