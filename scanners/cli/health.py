"""`sohoa health`: is this machine's worker or follower alive? (container healthchecks)"""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.settings import Settings


@click.command()
@click.option(
    "--max-age",
    "max_age_s",
    default=60.0,
    show_default=True,
    help="Seconds after which a heartbeat counts as stale.",
)
def health(max_age_s: float) -> None:
    """Exit 0 when the heartbeat in SOHOA_HEARTBEAT_FILE is fresh, 1 when stale or absent."""
    from workers.heartbeat import check_file

    path = Settings.from_env().heartbeat_file
    if not path:
        raise click.ClickException("SOHOA_HEARTBEAT_FILE is not set: nothing writes a heartbeat")
    ok, line = check_file(Path(path), max_age_s)
    click.echo(line)
    if not ok:
        raise SystemExit(1)
