"""The `sohoa` command line: a thin edge over pipeline use cases."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import click
from tqdm import tqdm

from models.capture import KINDS
from models.errors import NotFoundError
from pipeline.bootstrap import Services, bootstrap
from pipeline.settings import Settings
from scanners import health_command, url_command


def services() -> Services:
    return bootstrap(Settings.from_env())


def emit(data: object, as_json: bool, text: str) -> None:
    click.echo(
        json.dumps(data, ensure_ascii=False, indent=None if as_json else 2) if as_json else text
    )


def parse_id(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a capture or record id") from None


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log what workers and followers do.")
def main(verbose: bool) -> None:
    """sohoa: digitise Hanoi's land records and heritage archives."""
    _configure_logging(verbose)
    for noisy in ("dramatiq", "pika"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose else logging.ERROR)


class _NoTraceback(logging.Formatter):
    """Terminal lines without tracebacks: an internal error prints its id and where the
    traceback went (`$SOHOA_DATA_DIR/logs/sohoa.log`), not forty lines amid a batch's verdicts."""

    def __init__(self, fmt: str, where: Path) -> None:
        super().__init__(fmt)
        self.where = where

    def format(self, record: logging.LogRecord) -> str:
        line = logging.Formatter.format(self, _without_exc(record))
        return f"{line} (traceback in {self.where})" if record.exc_info else line


def _without_exc(record: logging.LogRecord) -> logging.LogRecord:
    copy = logging.makeLogRecord(record.__dict__)
    copy.exc_info, copy.exc_text = None, None
    return copy


def _configure_logging(verbose: bool) -> None:
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    level = logging.INFO if verbose else logging.WARNING
    log_file = Settings.from_env().data_dir / "logs" / "sohoa.log"
    handlers: list[logging.Handler] = []
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        to_file = logging.FileHandler(log_file, encoding="utf-8")
        to_file.setFormatter(logging.Formatter(fmt))
        handlers.append(to_file)
        terminal = logging.StreamHandler()
        terminal.setFormatter(_NoTraceback(fmt, log_file))
    except OSError:  # a read-only data folder: everything to the terminal, as before
        terminal = logging.StreamHandler()
        terminal.setFormatter(logging.Formatter(fmt))
    handlers.append(terminal)
    logging.basicConfig(level=level, handlers=handlers, force=True)


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
    from scanners.ingest_command import run_ingest

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
@click.option(
    "--queue", "queues", multiple=True, help="Only these queues (default, ocr, reconstruction)."
)
def worker(queues: tuple[str, ...]) -> None:
    """Run worker threads for the broker in SOHOA_BROKER_URL."""
    from workers.runtime import Runtime

    svc = services()
    embedded = svc.settings.broker_url.startswith("memory")
    if embedded:
        click.echo("memory:// broker is in-process: running the dispatcher here too", err=True)
    _run_until_stopped(Runtime(svc, workers=True, follow=embedded, queues=queues or None))


@main.command()
def follow() -> None:
    """Run the followers (dispatcher) over the notification log."""
    from workers.runtime import Runtime

    svc = services()
    embedded = svc.settings.broker_url.startswith("memory")
    _run_until_stopped(Runtime(svc, workers=embedded, follow=True))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Also run followers and workers (default on memory://).",
)
def serve(host: str, port: int, everything: bool) -> None:
    """The web app; on embedded defaults also the followers and workers, in one process."""
    import uvicorn

    from web.app import create_app
    from web.config import WebConfig

    svc = services()
    app = create_app(svc, WebConfig.from_env())  # SOHOA_WEB_* settings (web/config.py)
    runtime = None
    if everything or svc.settings.broker_url.startswith("memory"):
        from workers.runtime import Runtime

        runtime = Runtime(svc, workers=True, follow=True).start()
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        if runtime:
            runtime.stop()


@main.command()
@click.argument("ident")
@click.option("--json", "as_json", is_flag=True)
def history(ident: str, as_json: bool) -> None:
    """Every event of a capture or record, oldest first."""
    from pipeline.views import history_view
    from scanners.audit_command import audit_cli_read

    svc = services()
    try:
        aid = parse_id(ident)
        entries = history_view(svc.store.history(aid))  # credentials withheld
        audit_cli_read(svc, svc.store.get_any(aid), "cli history")
    except NotFoundError as e:
        raise click.ClickException(str(e)) from None
    lines = [
        f"v{e['version']:<3} {e['timestamp']}  {e['event']}  {_brief(e['data'])}" for e in entries
    ]
    emit(entries, as_json, "\n".join(lines))


@main.command()
@click.argument("ident")
@click.option("--as-of", "as_of", help="ISO time (UTC if no offset): the state as it stood then.")
@click.option("--json", "as_json", is_flag=True)
def show(ident: str, as_of: str | None, as_json: bool) -> None:
    """A capture's or record's current state, or its state as of a past time."""
    from pipeline.views import aggregate_view

    svc = services()
    try:
        aid = parse_id(ident)
        aggregate = svc.store.as_of(aid, _parse_time(as_of)) if as_of else svc.store.get_any(aid)
    except NotFoundError as e:
        raise click.ClickException(str(e)) from None
    from scanners.audit_command import audit_cli_read

    audit_cli_read(svc, aggregate, "cli show")
    view = aggregate_view(aggregate)
    emit(view, as_json, json.dumps(view, ensure_ascii=False, indent=2))


@main.command()
@click.option("--json", "as_json", is_flag=True)
def status(as_json: bool) -> None:
    """Captures by state, queue depth and follower lag."""
    from pipeline.checks import status as read_status
    from pipeline.followers import dispatcher
    from workers.broker import DramatiqQueue, make_broker

    svc = services()
    depth = None
    queue = None
    if not svc.settings.broker_url.startswith("memory"):
        queue = DramatiqQueue(make_broker(svc.settings.broker_url))
        depth = queue.depth()
    from pipeline.indexing import indexer

    followers = [dispatcher(svc.store, svc.positions, queue), indexer(svc)]
    report = read_status(svc, followers, depth)  # type: ignore[arg-type]
    c = report["captures"]
    text = (
        f"captures: {c['total']} ({c['done']} done, {c['partial']} partial, "
        f"{c['pending']} pending, {c['failed']} failed)\n"
        f"events:   {report['events']}\n"
        + "".join(
            f"follower {n}: position {f.get('position')}, lag {f.get('lag', f.get('error'))}\n"
            for n, f in report["followers"].items()
        )
        + f"queues:   {report['queues'] if depth is not None else 'in-process (memory://)'}"
    )
    emit(report, as_json, text)


@main.command()
@click.option("--json", "as_json", is_flag=True)
def verify(as_json: bool) -> None:
    """Fixity: re-hash every stored blob against its recorded sha256."""
    from pipeline.checks import verify as run_verify

    svc = services()
    with tqdm(desc="verifying", unit=" blobs", disable=as_json, file=sys.stderr) as bar:
        report = run_verify(svc, on_blob=lambda: bar.update(1))
    data = {"checked": report.checked, "ok": report.ok, "problems": report.problems}
    lines = [f"{report.checked} blobs checked, {report.ok} intact, {len(report.problems)} problems"]
    lines += [
        f"  {p['capture_id']} {p['blob']} {p['key']}: {p['problem']}" for p in report.problems
    ]
    emit(data, as_json, "\n".join(lines))
    sys.exit(0 if report.passed else 1)


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
    from scanners.import_command import run_import

    pairs = {}
    for d in defaults:
        field, sep, value = d.partition("=")
        if not sep or not field:
            raise click.BadParameter(f"{d!r} is not FIELD=VALUE", param_hint="--set")
        pairs[field.strip()] = value
    sys.exit(run_import(services(), file, as_json, defaults=pairs or None))


@main.command()
@click.option("--fresh", is_flag=True, help="Start from an empty demo data folder.")
def demo(fresh: bool) -> None:
    """Ingest bundled and generated samples on embedded defaults and show what happened."""
    from scanners.demo import run_demo

    sys.exit(run_demo(Settings.from_env(), fresh))


@main.command()
@click.argument("text", default="")
@click.option(
    "--facet",
    "facets",
    multiple=True,
    metavar="FIELD[=VALUE]",
    help="FIELD=VALUE filters; FIELD alone asks for its counts.",
)
@click.option(
    "--range",
    "ranges",
    multiple=True,
    metavar="FIELD=MIN..MAX",
    help="Numeric bounds, either may be left out: area_m2=100..250, area_m2=..80.",
)
@click.option("--near", help="LAT,LON,KM")
@click.option("--point", help="X,Y: the parcel (or anything mapped) covering this position.")
@click.option("--bbox", help="MINX,MINY,MAXX,MAXY: what lies in or meets this box.")
@click.option(
    "--crs",
    default="wgs84",
    show_default=True,
    help="Of --point and --bbox: vn2000 (EPSG:5897, easting,northing in m), wgs84 (lon,lat) "
    "or EPSG:nnnn.",
)
@click.option("--serial", default="", help="Certificate serial, typed any way (officers).")
@click.option("--registry", default="", help="Certificate registry number (officers).")
@click.option(
    "--role", type=click.Choice(["public", "officer"]), default="public", show_default=True
)
@click.option("--page", type=click.IntRange(1), default=1, show_default=True)
@click.option("--size", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def search(
    text, facets, ranges, near, point, bbox, crs, serial, registry, role, page, size, as_json
) -> None:
    """Search records in any spelling (with or without diacritics), by place and by number."""
    from scanners.search_command import build_query, run_search

    query = build_query(
        text,
        role,
        facets,
        near,
        bbox,
        page,
        size,
        point=point,
        crs=crs,
        ranges=ranges,
        serial=serial,
        registry=registry,
    )
    sys.exit(run_search(services(), query, as_json))


@main.command()
@click.option("--unit", help="Ward or commune name (old or new) or 5-digit code.")
@click.option("--sheet", help="Map sheet (tờ bản đồ số).")
@click.option("--number", help="Parcel number (thửa đất số).")
@click.option("--serial", default="", help="Or: the certificate's serial, typed any way.")
@click.option("--registry", default="", help="Or: the certificate's registry number.")
@click.option("--as-of", "as_of", help="ISO date or time: the record as it stood then.")
@click.option("--json", "as_json", is_flag=True)
def parcel(unit, sheet, number, serial, registry, as_of, as_json) -> None:
    """A land parcel by the names its papers carry, before or after the 2025 reorganisation,
    or by its certificate's serial or registry number."""
    from scanners.search_command import run_parcel, run_parcel_by_certificate

    when = _parse_time(as_of) if as_of else None
    if when and len(as_of) <= 10:
        when = when.replace(hour=23, minute=59, second=59)  # a date means the end of that day
    if serial.strip() or registry.strip():
        sys.exit(run_parcel_by_certificate(services(), serial, registry, when, as_json))
    if not (unit and sheet and number):
        raise click.UsageError("give --unit, --sheet and --number, or --serial or --registry")
    sys.exit(run_parcel(services(), unit, sheet, number, when, as_json))


@main.command()
def reindex() -> None:
    """Build a new search index from the log and switch over when it has caught up."""
    from scanners.search_command import run_reindex

    sys.exit(run_reindex(services()))


@main.command()
@click.argument("ident")
@click.option("--raw", is_flag=True, help="As the engine read it, before Vietnamese correction.")
def text(ident: str, raw: bool) -> None:
    """A document capture's full text (pages separated by form feeds)."""
    from scanners.document_commands import run_text

    svc = services()
    try:
        click.echo(run_text(svc, parse_id(ident), raw))
    except NotFoundError as e:
        raise click.ClickException(str(e)) from None


@main.command()
@click.argument("ident")
@click.option("--lang", help="Tesseract language(s): vie (default), vie+eng, vie+fra, chi_tra.")
@click.option("--rerun", is_flag=True, help="A new run even if the parameters are the same.")
@click.option("--wait", is_flag=True, help="Wait until every page has an outcome.")
@click.option("--json", "as_json", is_flag=True)
def ocr(ident: str, lang: str | None, rerun: bool, wait: bool, as_json: bool) -> None:
    """Read a document's pages again (a new version beside the old), or show its text runs."""
    from scanners.document_commands import dumps, run_ocr

    svc = services()
    try:
        report = run_ocr(svc, parse_id(ident), lang, rerun, wait)
    except NotFoundError as e:
        raise click.ClickException(str(e)) from None
    emit(report, as_json, dumps(report))


@main.command()
@click.argument("ident")
@click.option(
    "--set", "corrections", multiple=True, metavar="FIELD=VALUE", help="A person's correction."
)
@click.option("--reason", default="", help="Why the correction was made (recorded).")
@click.option("--json", "as_json", is_flag=True)
def fields(ident: str, corrections: tuple[str, ...], reason: str, as_json: bool) -> None:
    """A land certificate's fields; `--set` records corrections that win over the machine's."""
    from pipeline.certificate_records import correct_fields
    from pipeline.views import fields_view
    from scanners.document_commands import fields_text
    from scanners.model_commands import parse_params

    svc = services()
    try:
        cid = parse_id(ident)
        if corrections:
            correct_fields(svc, cid, parse_params(corrections), reason, svc.settings.operator)
        view = fields_view(svc.store.capture(cid))
    except NotFoundError as e:
        raise click.ClickException(str(e)) from None
    emit(view, as_json, fields_text(view))


@main.command()
@click.argument("ident")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="A stage parameter.")
@click.option("--wait", is_flag=True, help="Wait until the run has an outcome.")
@click.option("--json", "as_json", is_flag=True)
def reconstruct(ident: str, params: tuple[str, ...], wait: bool, as_json: bool) -> None:
    """A new 3D reconstruction run for a model, scan set or photo set."""
    from scanners.model_commands import model_text, parse_params, run_reconstruct

    svc = services()
    try:
        view = run_reconstruct(svc, parse_id(ident), parse_params(params), wait)
    except NotFoundError as e:
        raise click.ClickException(str(e)) from None
    emit(view, as_json, model_text(view))


@main.command()
@click.argument("ident")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the GLB here.")
@click.option("--lod", help="A level of detail instead of the full model (e.g. 100k).")
@click.option("--json", "as_json", is_flag=True)
def model(ident: str, out: Path | None, lod: str | None, as_json: bool) -> None:
    """A 3D capture's latest model: metrics, and the GLB with --out."""
    from pipeline.views import model_view
    from scanners.model_commands import model_text, write_model

    svc = services()
    try:
        capture = svc.store.capture(parse_id(ident))
    except NotFoundError as e:
        raise click.ClickException(str(e)) from None
    view = model_view(capture)
    if out is not None:
        view["written"] = {"path": str(out), "bytes": write_model(svc, capture, out, lod)}
    emit(view, as_json, model_text(view))


@main.command()
@click.argument("ident")
@click.option("--json", "as_json", is_flag=True)
def retry(ident: str, as_json: bool) -> None:
    """Run a capture's failed stages again (the failures stay in its history)."""
    from pipeline.handlers import retry_failed

    svc = services()
    try:
        stages = retry_failed(svc, parse_id(ident), svc.settings.operator)
    except NotFoundError as e:
        raise click.ClickException(str(e)) from None
    emit({"id": ident, "retried": stages}, as_json, f"retrying: {', '.join(stages) or 'nothing'}")


@main.group()
def user() -> None:
    """Staff accounts of the web app (archivists and land officers)."""


@user.command("add")
@click.argument("login")
@click.option("--role", type=click.Choice(["archivist", "officer"]), required=True)
@click.option("--name", "display_name", default="", help="Shown in the web app.")
@click.password_option(envvar="SOHOA_USER_PASSWORD", help="Asked for when not given.")
def user_add(login: str, role: str, display_name: str, password: str) -> None:
    """Create an account."""
    from pipeline.accounts import AccountError, add_user

    try:
        add_user(services().store, login, role, password, display_name)
    except AccountError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"{login}: {role}")


@user.command("token")
@click.argument("login")
@click.option("--label", default="cli", show_default=True)
@click.option("--days", type=click.IntRange(1, 3650), default=90, show_default=True)
def user_token(login: str, label: str, days: int) -> None:
    """Issue an API token (printed once; only its hash is stored)."""
    from datetime import timedelta

    from pipeline.accounts import AccountError, issue_token

    try:
        _, token = issue_token(services().store, login, label, timedelta(days=days))
    except AccountError as e:
        raise click.ClickException(str(e)) from None
    click.echo(token)


@user.command("revoke")
@click.argument("login")
def user_revoke(login: str) -> None:
    """End every session and API token of LOGIN at once."""
    from pipeline.accounts import AccountError, revoke_access

    svc = services()
    try:
        revoke_access(svc.store, login, by=f"cli:{svc.settings.operator}")
    except AccountError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"{login}: every session and token ended")


@user.command("unlock")
@click.argument("login")
def user_unlock(login: str) -> None:
    """Lift LOGIN's sign-in lockout (after too many failed sign-ins)."""
    from pipeline.accounts import AccountError, unlock_account

    svc = services()
    try:
        done = unlock_account(svc.store, login, by=f"cli:{svc.settings.operator}")
    except AccountError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"{login}: unlocked" if done else f"{login} was not locked")


def _brief(data: dict) -> str:
    text = json.dumps(data, ensure_ascii=False)
    return text if len(text) <= 160 else text[:157] + "..."


def _parse_time(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date or time") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _embedded_runtime(svc: Services):
    if not svc.settings.broker_url.startswith("memory"):
        return None
    from workers.runtime import Runtime

    return Runtime(svc, workers=True, follow=True).start()


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _run_until_stopped(runtime) -> None:
    stop = _stop_on_signals()
    runtime.start()
    try:
        while not stop.wait(1.0):
            pass
    finally:
        runtime.stop()


main.add_command(url_command.url)
main.add_command(health_command.health)

from scanners.audit_command import audit  # noqa: E402

main.add_command(audit)

if __name__ == "__main__":
    main()
