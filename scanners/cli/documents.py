"""`sohoa text`, `sohoa ocr`, `sohoa fields`: a capture's text runs and certificate fields."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import click

from models.capture import Capture
from models.errors import NotFoundError
from models.ids import Outcome
from models.plan import TEXT_KINDS
from pipeline.bootstrap import Services
from pipeline.jobs.text import full_text, raw_full_text
from pipeline.media.sniff import PAGE_TYPES
from pipeline.presenters import jsonable
from scanners.cli.ingest import wait_for
from scanners.cli.main import emit, main, parse_id, services


def run_text(svc: Services, capture_id: UUID, raw: bool) -> str:
    """The capture's latest full text: corrected, or as the engine read it (`raw`)."""
    capture = svc.store.capture(capture_id)
    if capture.text is None:
        raise click.ClickException(f"{capture_id} has no text yet ({_text_state(capture)})")
    text = raw_full_text(svc, capture) if raw else full_text(svc, capture)
    return text or ""


def run_text_pages(svc: Services, capture_id: UUID) -> dict[str, Any]:
    """`sohoa text --json`: the latest text page by page, with the regions the reading skipped
    (kind, box in pixels of the page image) and the lines it read at low confidence."""
    from pipeline.jobs.text import page_text
    from pipeline.presenters import dim_line_texts

    capture = svc.store.capture(capture_id)
    if capture.text is None:
        raise click.ClickException(f"{capture_id} has no text yet ({_text_state(capture)})")
    pages = []
    for n, outcome in sorted(capture.page_outcomes(capture.text["run"]).items()):
        if outcome["status"] != "done":
            pages.append({"page": n + 1, "status": outcome["status"]})
            continue
        read = page_text(svc, outcome)
        skipped = [{"kind": r["kind"], "box": r["box"]} for r in read.params.get("suppressed", [])]
        pages.append(
            {
                "page": n + 1,
                "status": "done",
                "text": read.text,
                "mean_conf": read.mean_conf,
                "suppressed": skipped,
                "dim_lines": dim_line_texts(read),
            }
        )
    return jsonable({"id": capture.id, "run": capture.text["run"], "pages": pages})


def run_ocr(
    svc: Services, capture_id: UUID, lang: str | None, rerun: bool, wait: bool
) -> dict[str, Any]:
    """Request a new text run when asked (or when the language differs); report the latest."""
    from pipeline.stages.ocr.recognise import LANGUAGES

    capture = svc.store.capture(capture_id)
    if capture.kind not in TEXT_KINDS or capture.media_type not in PAGE_TYPES:
        raise click.ClickException(f"{capture_id} is a {capture.kind}, not a document with pages")
    if lang is not None and lang not in LANGUAGES:
        raise click.BadParameter(
            f"{lang!r}; choose one of {', '.join(LANGUAGES)}", param_hint="--lang"
        )
    current = capture.text_runs[-1] if capture.text_runs else None
    if rerun or current is None or (lang and lang != current["lang"]):
        params = svc.settings.text_params(capture.meta)
        if lang:
            params["lang"] = lang
        svc.store.request_text_run(capture_id, params, svc.settings.operator)
    if wait:
        wait_for(svc, [capture_id], as_json=True)
    return text_report(svc.store.capture(capture_id))


def text_report(capture: Capture) -> dict[str, Any]:
    runs = []
    for n, params in enumerate(capture.text_runs, start=1):
        pages = capture.page_outcomes(n)
        runs.append(
            {
                "run": n,
                "params": params,
                "pages_done": sum(1 for o in pages.values() if o["status"] == "done"),
                "pages_failed": {
                    p: o.get("message") for p, o in pages.items() if o["status"] != "done"
                },
                "state": capture.outcomes.get(str(Outcome("text", n)), {}).get("status", "pending"),
                "sources": sorted({o.get("source") for o in pages.values() if o.get("source")}),
                "engines": sorted({o.get("engine") for o in pages.values() if o.get("engine")}),
            }
        )
    return jsonable(
        {"id": capture.id, "state": _text_state(capture), "text": capture.text, "runs": runs}
    )


def _text_state(capture: Capture) -> str:
    if not capture.text_runs:
        return "no text run" if capture.outcomes.get("inspect") else "waiting for inspection"
    n = len(capture.text_runs)
    outcome = capture.outcomes.get(str(Outcome("text", n)))
    if outcome is None:
        done = len(capture.page_outcomes(n))
        return f"run {n}: {done} of {capture.inspection.get('pages', '?')} pages read"
    return f"run {n}: {outcome['status']}"


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


@main.command()
@click.argument("ident")
@click.option("--raw", is_flag=True, help="As the engine read it, before Vietnamese correction.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Page by page, with the regions skipped (seal, stamp…) and the lines read dimly.",
)
def text(ident: str, raw: bool, as_json: bool) -> None:
    """A document capture's full text (pages separated by form feeds)."""
    from scanners.cli.audit import audit_cli_read
    from scanners.cli.documents import run_text, run_text_pages

    svc = services()
    try:
        cid = parse_id(ident)
        shown = dumps(run_text_pages(svc, cid)) if as_json else run_text(svc, cid, raw)
        audit_cli_read(svc, svc.store.capture(cid), "cli text")  # a certificate's owners
    except NotFoundError as e:
        raise click.ClickException(str(e)) from None
    click.echo(shown)


@main.command()
@click.argument("ident")
@click.option("--lang", help="Tesseract language(s): vie (default), vie+eng, vie+fra, chi_tra.")
@click.option("--rerun", is_flag=True, help="A new run even if the parameters are the same.")
@click.option("--wait", is_flag=True, help="Wait until every page has an outcome.")
@click.option("--json", "as_json", is_flag=True)
def ocr(ident: str, lang: str | None, rerun: bool, wait: bool, as_json: bool) -> None:
    """Read a document's pages again (a new version beside the old), or show its text runs."""
    from scanners.cli.documents import dumps, run_ocr

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
    """A land certificate's fields: value, confidence and status (read, needs review and why,
    accepted or corrected by whom); `--set` records corrections that win over the machine's."""
    from pipeline.presenters import fields_view
    from pipeline.usecases.certificates import correct_fields
    from scanners.cli.models import parse_params
    from scanners.cli.review import fields_table

    svc = services()
    try:
        cid = parse_id(ident)
        if corrections:
            correct_fields(svc, cid, parse_params(corrections), reason, svc.settings.operator)
        capture = svc.store.capture(cid)
        view = fields_view(capture)
    except NotFoundError as e:
        raise click.ClickException(str(e)) from None
    from scanners.cli.audit import audit_cli_read

    audit_cli_read(svc, capture, "cli fields")
    emit(view, as_json, fields_table(view))
