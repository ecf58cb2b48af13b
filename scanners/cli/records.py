"""`sohoa history`, `show`, `status`, `verify`, `retry`."""

from __future__ import annotations

import json
import sys

import click

from models.errors import NotFoundError
from scanners.cli.main import _brief, _parse_time, emit, main, parse_id, services
from scanners.cli.progress import progress_bar


@main.command()
@click.argument("ident")
@click.option("--json", "as_json", is_flag=True)
def history(ident: str, as_json: bool) -> None:
    """Every event of a capture or record, oldest first."""
    from pipeline.presenters import history_view
    from scanners.cli.audit import audit_cli_read

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
    from pipeline.presenters import aggregate_view

    svc = services()
    try:
        aid = parse_id(ident)
        aggregate = svc.store.as_of(aid, _parse_time(as_of)) if as_of else svc.store.get_any(aid)
    except NotFoundError as e:
        raise click.ClickException(str(e)) from None
    from scanners.cli.audit import audit_cli_read

    audit_cli_read(svc, aggregate, "cli show")
    view = aggregate_view(aggregate)
    emit(view, as_json, json.dumps(view, ensure_ascii=False, indent=2))


@main.command()
@click.option("--json", "as_json", is_flag=True)
def status(as_json: bool) -> None:
    """Captures by state, queue depth and follower lag."""
    from pipeline.dispatch.dispatcher import dispatcher
    from pipeline.presenters import progress_text
    from pipeline.usecases.status import status as read_status

    svc = services()
    depth = None
    queue = None
    if not svc.settings.broker_url.startswith("memory"):
        from workers.broker import DramatiqQueue, make_broker  # Dramatiq only for a broker

        queue = DramatiqQueue(make_broker(svc.settings.broker_url))
        depth = queue.depth()
    from pipeline.dispatch.indexer import indexer

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
        + "".join(
            f"\n3D:       {r['id'][:8]} {r['name']}: {progress_text(r)}"
            for r in report["reconstructing"]
        )
    )
    emit(report, as_json, text)


@main.command()
@click.option("--json", "as_json", is_flag=True)
def verify(as_json: bool) -> None:
    """Fixity: re-hash every stored blob against its recorded sha256."""
    from pipeline.usecases.status import verify as run_verify

    svc = services()
    with progress_bar(desc="verifying", unit=" blobs", disable=as_json) as bar:
        report = run_verify(svc, on_blob=lambda: bar.update(1))
    data = {"checked": report.checked, "ok": report.ok, "problems": report.problems}
    lines = [f"{report.checked} blobs checked, {report.ok} intact, {len(report.problems)} problems"]
    lines += [
        f"  {p['capture_id']} {p['blob']} {p['key']}: {p['problem']}" for p in report.problems
    ]
    emit(data, as_json, "\n".join(lines))
    sys.exit(0 if report.passed else 1)


@main.command()
@click.argument("ident")
@click.option("--json", "as_json", is_flag=True)
def retry(ident: str, as_json: bool) -> None:
    """Run a capture's failed stages again (the failures stay in its history)."""
    from pipeline.usecases.retry import retry_failed

    svc = services()
    try:
        stages = retry_failed(svc, parse_id(ident), svc.settings.operator)
    except NotFoundError as e:
        raise click.ClickException(str(e)) from None
    emit({"id": ident, "retried": stages}, as_json, f"retrying: {', '.join(stages) or 'nothing'}")
