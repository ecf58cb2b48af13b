"""`sohoa stats`: the public numbers (what `/api/stats` serves) on the command line."""

from __future__ import annotations

import json

import click

from pipeline.projections.follower import rebuild, stats_follower
from pipeline.usecases.stats import public_stats, public_stats_csv
from scanners.cli.main import main, services


@main.command()
@click.option("--json", "as_json", is_flag=True, help="JSON, as GET /api/stats.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV, one count per line.")
@click.option("--rebuild", "again", is_flag=True, help="Count the whole event log again first.")
def stats(as_json: bool, as_csv: bool, again: bool) -> None:
    """Captures and pages by administrative unit, kind and month; published heritage sites by
    rank. No personal data. Reads the statistics projection after bringing it up to date."""
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    svc = services()
    try:
        rebuild(svc) if again else stats_follower(svc).catch_up()
        data = public_stats(svc)
    finally:
        svc.close()
    if as_csv:
        click.echo(public_stats_csv(data), nl=False)
    elif as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
    else:
        click.echo(_table(data))


def _table(data: dict) -> str:
    lines = [f"{'month':8} {'unit':34} {'kind':17} {'captures':>9} {'pages':>7}"]
    for e in data["by_month"]:
        unit = (e["unit_name"] or e["unit"])[:34]
        lines.append(f"{e['month']:8} {unit:34} {e['kind']:17} {e['captures']:9} {e['pages']:7}")
    if data["published_sites_by_rank"]:
        lines.append("")
        lines.append("published heritage sites by rank")
        for r in data["published_sites_by_rank"]:
            unit = (r["unit_name"] or r["unit"])[:34]
            lines.append(f"  {r['rank']:24} {unit:34} {r['published']:5}")
    return "\n".join(lines)
