"""The `sohoa` group and the helpers every command shares.

Commands load lazily: `sohoa` imports a command's module (and with it the libraries that
command needs) only when that command runs or shows its help. `scanners.cli.COMMANDS` names
each command's module and keeps its one-line help, so `sohoa --help` lists every command
without importing any of them.
"""

from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import UUID

import click

if TYPE_CHECKING:
    from pipeline.bootstrap import Services


class LazyGroup(click.Group):
    """A group whose commands are imported on demand (click's "lazily loading subcommands").

    `lazy` maps a command name to `("module:attribute", short help)`. Importing the module
    registers the command (a module that decorates with `@main.command()`), or the attribute
    is added under the name (a plain `@click.command`). Commands added the ordinary way are
    listed and run as usual.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy: dict[str, tuple[str, str]] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self._load(cmd_name)
        return self.commands.get(cmd_name)

    def _load(self, name: str) -> None:
        module_name, _, attribute = self.lazy[name][0].partition(":")
        module = importlib.import_module(module_name)
        if name not in self.commands:
            self.add_command(getattr(module, attribute), name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click lists commands, the helps of unloaded ones taken from the registry."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            command = self.commands.get(name)
            if command is None:  # shortened as click shortens a loaded command's help
                rows.append(
                    (name, click.Command(name, help=self.lazy[name][1]).get_short_help_str(limit))
                )
            elif not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def services() -> Services:
    from pipeline.bootstrap import bootstrap
    from pipeline.settings import Settings

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


@click.group(cls=LazyGroup)
@click.version_option(package_name="sohoa", prog_name="sohoa")
@click.option("-v", "--verbose", is_flag=True, help="Log what workers and followers do.")
def main(verbose: bool) -> None:
    """sohoa: digitise Hanoi's land records and heritage archives."""
    _configure_logging(verbose)


def _configure_logging(verbose: bool) -> None:
    """The one logging set-up (`pipeline.observability.logs`): the terminal and
    `$SOHOA_DATA_DIR/logs/sohoa.log`, plain lines or JSON (SOHOA_LOG_FORMAT). Imported here,
    so `--help` and `--version` (answered before this runs) load neither."""
    from pipeline.observability.logs import configure_logging
    from pipeline.settings import Settings

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
