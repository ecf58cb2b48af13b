"""The `sohoa` group and the helpers every command shares."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import click

from pipeline.bootstrap import Services, bootstrap
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


class _LogFile(logging.FileHandler):
    """The log file, created with its folder only when something is first written: a command
    that logs nothing leaves no trace in the data folder (the demo checks it is its own)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, encoding="utf-8", delay=True)

    def _open(self):
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()

    def handleError(self, record: logging.LogRecord) -> None:  # a read-only folder: say so once
        self.close()
        logging.getLogger().removeHandler(self)


def _configure_logging(verbose: bool) -> None:
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    level = logging.INFO if verbose else logging.WARNING
    log_file = Settings.from_env().data_dir / "logs" / "sohoa.log"
    to_file = _LogFile(log_file)
    to_file.setFormatter(logging.Formatter(fmt))
    terminal = logging.StreamHandler()
    terminal.setFormatter(_NoTraceback(fmt, log_file))
    logging.basicConfig(level=level, handlers=[to_file, terminal], force=True)


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
