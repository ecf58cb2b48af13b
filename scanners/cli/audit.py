"""`sohoa audit [--since ISO] [--json]`: restricted reads and refused sign-ins, newest first,
whichever route or command they came from (who, role, what, which parts, how, from where)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click

from pipeline.bootstrap import Services
from pipeline.usecases.accounts import Principal, audit_entries, record_restricted_read


@click.command("audit")
@click.option("--since", help="ISO date or time (UTC if no offset): only entries from then on.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def audit(since: str | None, limit: int, as_json: bool) -> None:
    """Who read personal data, and which sign-ins were refused."""
    from scanners.cli.main import services

    entries = audit_entries(services().store, limit=limit, since=_since(since))
    for entry in entries:
        click.echo(json.dumps(entry, ensure_ascii=False) if as_json else audit_line(entry))


def audit_line(e: dict[str, Any]) -> str:
    parts = ",".join(e["attributes"]) or "-"
    what = e["subject_id"] or "-"
    return f"{e['when'][:19]}  {e['who']:<16} {e['role'] or '-':<9} {what}  {parts}  {e['action']}  {e['client']}"  # noqa: E501


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date or time") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def audit_cli_read(svc: Services, subject: object, action: str) -> None:
    """A CLI command printed `subject` (a capture, record, account): audit its restricted parts
    under the operator (`SOHOA_OPERATOR`), role "operator", client "cli"."""
    from models.capture import Capture
    from models.disclosure import capture_parts, record_parts
    from models.record import Record
    from pipeline.redaction import restricted_names

    if isinstance(subject, Record):
        names = restricted_names(subject)
        parts = [*names, *record_parts(subject, frozenset(names))] if names else []
    elif isinstance(subject, Capture):
        parts = [str(p) for p in capture_parts(subject, subject.kind == "land-certificate")]
    else:
        return
    record_restricted_read(
        svc.store, operator_principal(svc), subject.id, [str(p) for p in parts], action, "cli"
    )


def audit_cli_search_hit(svc: Services, subject_id: str, text: str) -> None:
    """An officer search on the CLI showed this record's restricted fields (owners, numbers)."""
    action = f"cli search {text!r}"
    record_restricted_read(
        svc.store, operator_principal(svc), subject_id, ["restricted fields"], action, "cli"
    )


def operator_principal(svc: Services) -> Principal:
    """Whoever runs the CLI on the server: audited as `SOHOA_OPERATOR`, role "operator"."""
    return Principal(svc.settings.operator or "operator", "operator")
