"""`sohoa review`: the archivists' review queue on the command line, and `sohoa fields`' table.

    sohoa review [--page N] [--json]           the queue, weakest first
    sohoa review accept ID FIELD…              the machine's values confirmed as read
    sohoa review correct ID FIELD=VALUE… [--reason TEXT]
    sohoa review blank ID                      the fields not read left blank (not on the photo)
    sohoa review join ID OTHER                 a photo of page 1 or 4 joins OTHER's parcel

Accepting and correcting record the same events as the staff review page (`FieldAccepted`,
`FieldCorrected`), by "person:<operator>"; the fields shown afterwards are a read of the
certificate, audited under the operator (`operator_principal`).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import click

from pipeline.bootstrap import Services
from scanners.cli.main import emit, main, parse_id, services

VALUE_WIDTH = 36


def fields_table(view: dict[str, Any]) -> str:
    """Each field's value, confidence and status (read; needs review, and why; accepted or
    corrected, by whom), in columns for a terminal."""
    if view["kind"] is None:
        return "no fields yet"
    head = f"kind: {view['kind']}" + (f" (form {view['form']})" if view.get("form") else "")
    rows = [("field", "value", "conf", "status")]
    for name, f in view.get("status", {}).items():
        rows.append((name, _cell(f["value"]), _confidence(f["confidence"]), _status(f)))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [head]
    for name, value, conf, status in rows:
        lines.append(
            f"  {name:<{widths[0]}}  {value:<{widths[1]}}  {conf:>{widths[2]}}  {status}".rstrip()
        )
    if view.get("corners"):
        lines.append(f"  corners: {len(view['corners'])} points")
    if view.get("changes"):
        lines.append(f"  changes: {len(view['changes'])} entries")
    s = view["review_summary"]
    lines.append(
        f"needs review {s['needs_review']} · accepted {s['accepted']}"
        f" · corrected {s['corrected']} · left blank {s['left_blank']} · read {s['read']}"
    )
    return "\n".join(lines)


def _cell(value: Any) -> str:
    text = "—" if value is None else str(value).replace("\n", " ")
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 1] + "…"


def _confidence(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _status(f: dict[str, Any]) -> str:
    if f["status"] == "needs_review":
        return f"needs review: {f['reason']}" if f.get("reason") else "needs review"
    if f["status"] in ("accepted", "corrected", "left_blank"):
        return f"{f['status'].replace('_', ' ')} by {f['by']}"
    return "read"


def queue_table(queue: dict[str, Any]) -> str:
    """The queue's page as columns, with its figures and where the page is."""
    fig = queue["figures"]
    lines = [
        f"{fig['certificates']} certificates · fields needing review {fig['needs_review']}"
        f" · accepted {fig['accepted']} · corrected {fig['corrected']}"
        f" · left blank {fig['left_blank']}",
        f"{'waiting':>7}  {'weakest':>7}  {'accepted':>8}  {'corrected':>9}  {'id':<36}  title",
    ]
    for q in queue["rows"]:
        weakest = _confidence(q["weakest"])
        lines.append(
            f"{q['needs_review']:>7}  {weakest:>7}  {q['accepted']:>8}  {q['corrected']:>9}"
            f"  {q['id']:<36}  {q['name']}"
        )
    if queue["pages"] > 1:
        lines.append(f"page {queue['page']} of {queue['pages']} (--page N)")
    return "\n".join(lines)


def _by(svc: Services) -> str:
    from scanners.cli.audit import operator_principal

    return f"person:{operator_principal(svc).login}"


def _known(svc: Services, cid: UUID, names: list[str]) -> None:
    from pipeline.presenters import field_status

    status = field_status(svc.store.capture(cid))
    if not status:
        raise click.ClickException(f"{cid} has no certificate fields")
    unknown = [n for n in names if n not in status]
    if unknown:
        raise click.BadParameter(f"no field {', '.join(unknown)}; fields: {', '.join(status)}")


def _show(svc: Services, cid: UUID, as_json: bool) -> None:
    from pipeline.presenters import fields_view
    from scanners.cli.audit import audit_cli_read

    capture = svc.store.capture(cid)
    view = fields_view(capture)
    audit_cli_read(svc, capture, "cli review")
    emit(view, as_json, fields_table(view))


@main.group("review", invoke_without_command=True)
@click.option("--page", type=click.IntRange(1), default=1, show_default=True)
@click.option("--size", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def review(ctx: click.Context, page: int, size: int, as_json: bool) -> None:
    """Land certificates whose fields a person should look at, weakest first."""
    if ctx.invoked_subcommand is not None:
        return
    from pipeline.usecases.review import review_queue

    queue = review_queue(services(), page, size)
    emit(queue, as_json, queue_table(queue))


@review.command("accept")
@click.argument("ident")
@click.argument("names", nargs=-1, required=True, metavar="FIELD…")
@click.option("--json", "as_json", is_flag=True)
def accept(ident: str, names: tuple[str, ...], as_json: bool) -> None:
    """Confirm the machine's values of these fields as read (a field with no value needs
    `correct`)."""
    from models.errors import NotFoundError
    from pipeline.usecases.certificates import accept_fields

    svc = services()
    cid = parse_id(ident)
    try:
        _known(svc, cid, list(names))
        accepted = accept_fields(svc, cid, list(names), by=_by(svc))
    except NotFoundError as e:
        raise click.ClickException(str(e)) from None
    _show(svc, cid, as_json)
    refused = sorted(set(names) - set(accepted))
    if refused:
        raise click.ClickException(f"no value to accept in {', '.join(refused)}: use correct")


@review.command("correct")
@click.argument("ident")
@click.argument("pairs", nargs=-1, required=True, metavar="FIELD=VALUE…")
@click.option("--reason", default="", help="Why (recorded with the correction).")
@click.option("--json", "as_json", is_flag=True)
def correct(ident: str, pairs: tuple[str, ...], reason: str, as_json: bool) -> None:
    """Record a person's values for these fields (they win over the machine's)."""
    from models.errors import NotFoundError
    from pipeline.presenters import fields_view
    from pipeline.usecases.certificates import correct_fields
    from pipeline.usecases.review import parse_value
    from scanners.cli.models import parse_params

    svc = services()
    cid = parse_id(ident)
    typed = parse_params(pairs)
    try:
        _known(svc, cid, list(typed))
        current = fields_view(svc.store.capture(cid))["fields"]
        values = {n: parse_value(n, v, current.get(n)) for n, v in typed.items()}
        correct_fields(svc, cid, values, reason or "sohoa review", _by(svc))
    except NotFoundError as e:
        raise click.ClickException(str(e)) from None
    _show(svc, cid, as_json)


@review.command("blank")
@click.argument("ident")
@click.option("--json", "as_json", is_flag=True)
def blank(ident: str, as_json: bool) -> None:
    """Leave the fields still waiting with no value blank: they are not on this capture's pages
    (a photo of page 1 or 4 of a booklet); as the review page's Alt+B."""
    from models.errors import NotFoundError
    from pipeline.usecases.certificates import leave_blank

    svc = services()
    cid = parse_id(ident)
    try:
        _known(svc, cid, [])
        leave_blank(svc, cid, _by(svc))
    except NotFoundError as e:
        raise click.ClickException(str(e)) from None
    _show(svc, cid, as_json)


@review.command("join")
@click.argument("ident")
@click.argument("other")
@click.option("--json", "as_json", is_flag=True)
def join(ident: str, other: str, as_json: bool) -> None:
    """This photo is of the same certificate as OTHER (page 1 beside pages 2–3): it takes
    OTHER's sheet, number, address and date, its fields not read are left blank, and it joins
    OTHER's parcel with what it holds (the owners of page 1); as the review page's Alt+L."""
    from models.errors import NotFoundError
    from pipeline.usecases.certificates import join_certificate

    svc = services()
    cid, oid = parse_id(ident), parse_id(other)
    try:
        _known(svc, cid, [])
        _known(svc, oid, [])
        join_certificate(svc, cid, oid, _by(svc))
    except NotFoundError as e:
        raise click.ClickException(str(e)) from None
    _show(svc, cid, as_json)
