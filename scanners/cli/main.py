"""The `sohoa` group and the helpers every command shares."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import UUID

import click

from pipeline.bootstrap import Services, bootstrap
from pipeline.observability.logs import configure_logging
from pipeline.settings import Settings
from scanners.cli import health as health_command
from scanners.cli import url as url_command
from scanners.cli.audit import audit


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


def _configure_logging(verbose: bool) -> None:
    """The one logging set-up (`pipeline.observability.logs`): the terminal and
    `$SOHOA_DATA_DIR/logs/sohoa.log`, plain lines or JSON (SOHOA_LOG_FORMAT)."""
    settings = Settings.from_env()
    log_file = settings.data_dir / "logs" / "sohoa.log"
    configure_logging(verbose, log_file, settings.log_format)


def _brief(data: dict) -> str:
    text = json.dumps(data, ensure_ascii=False)
    return text if len(text) <= 160 else text[:157] + "..."


def _parse_time(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date or time") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


main.add_command(url_command.url)
main.add_command(health_command.health)

main.add_command(audit)
