"""`sohoa search`, `sohoa parcel` and `sohoa reindex`: thin edges over search and the store."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import click

from pipeline.bootstrap import Services
from scanners.cli.audit import audit_cli_search_hit
from scanners.cli.main import main, services
from scanners.cli.progress import progress_bar
from search.geo.crs import box_region, to_wgs84
from search.query import Near, Query, QueryError

PUBLIC_FACETS = ("kind", "type", "rank", "ward", "period", "has_model", "has_documents")
OFFICER_FACETS = ("kind", "unit_code", "purpose", "ward")


def build_query(
    text: str,
    role: str,
    facets: tuple[str, ...],
    near: str | None,
    bbox: str | None,
    page: int,
    size: int,
    *,
    point: str | None = None,
    crs: str = "wgs84",
    ranges: tuple[str, ...] = (),
    serial: str = "",
    registry: str = "",
) -> Query:
    """The query the `search` options describe; bad values are `click.BadParameter`."""
    filters: dict[str, list[str]] = {}
    counted: list[str] = []
    for f in facets:
        name, sep, value = f.partition("=")
        if sep:
            filters.setdefault(name, []).append(value)
        else:
            counted.append(name)
    return Query(
        text=text,
        role=role,
        filters=filters,
        ranges=dict(_range(r) for r in ranges),
        near=Near(*_floats(near, 3, "--near LAT,LON,KM")) if near else None,
        containing=_place(point, 2, "--point", crs) if point else None,
        intersecting=_place(bbox, 4, "--bbox", crs) if bbox else None,
        serial=serial.strip(),
        registry_number=registry.strip(),
        facets=tuple(counted) or (PUBLIC_FACETS if role == "public" else OFFICER_FACETS),
        offset=(page - 1) * size,
        limit=size,
    )


def _place(value: str, n: int, option: str, crs: str):
    """`--point X,Y` or `--bbox MINX,MINY,MAXX,MAXY` in `crs`, as the query's WGS 84 place."""
    form = "X,Y" if n == 2 else "MINX,MINY,MAXX,MAXY"
    numbers = _floats(value, n, f"{option} {form} (easting,northing in VN-2000; lon,lat in WGS 84)")
    try:
        return to_wgs84(*numbers, crs) if n == 2 else box_region(*numbers, crs)
    except QueryError as e:
        raise click.BadParameter(str(e), param_hint=option) from None


def _range(value: str) -> tuple[str, tuple[float | None, float | None]]:
    """`FIELD=MIN..MAX`, either bound may be left out (`area_m2=100..`); "12,5" is 12.5."""
    name, sep, bounds = value.partition("=")
    low, dots, high = bounds.partition("..")
    try:
        if not (sep and dots and name.strip() and (low.strip() or high.strip())):
            raise ValueError
        numbers = tuple(float(b.replace(",", ".")) if b.strip() else None for b in (low, high))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not FIELD=MIN..MAX (e.g. area_m2=100..250, area_m2=..80)",
            param_hint="--range",
        ) from None
    return name.strip(), numbers  # type: ignore[return-value]


def _floats(value: str, n: int, form: str) -> list[float]:
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) != n:
        raise click.BadParameter(f"{value!r} is not {form}")
    return numbers


def plain(highlight: str) -> str:
    """A highlight for a terminal: matches in [brackets], HTML entities decoded."""
    import html

    return html.unescape(highlight.replace("<mark>", "[").replace("</mark>", "]"))


def run_search(svc: Services, query: Query, as_json: bool) -> int:
    try:
        result = svc.index.search(query)
    except QueryError as e:
        raise click.ClickException(str(e)) from None
    if query.role != "public":  # officers' hits carry owners and certificate numbers
        for h in result.hits:
            audit_cli_search_hit(svc, h.id, query.text or "")
    data = {
        "total": result.total,
        "hits": [
            {**h.fields, **{k: v for k, v in asdict(h).items() if k != "fields"}}
            for h in result.hits
        ],
        "facets": result.facets,
        "showing": result.showing,
    }
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return 0
    if result.showing:  # nothing as typed: typos were forgiven
        click.echo(f"nothing for {query.text!r} as typed; showing results for {result.showing!r}")
    click.echo(f"{result.total} found")
    for h in result.hits:
        click.echo(f"  {h.score:6.2f}  {h.title}  [{h.kind}] {h.id}")
        if h.highlight:
            click.echo(f"          {plain(h.highlight)}")
    for name, counts in result.facets.items():
        if counts:
            shown = ", ".join(f"{k} ({v})" for k, v in list(counts.items())[:8])
            click.echo(f"  {name}: {shown}")
    return 0


def run_reindex(svc: Services) -> int:
    """Build a new index from the log, catch up, then switch over to it."""
    if svc.settings.search_url.startswith("tantivy"):
        return _reindex_tantivy(svc)
    return _reindex_elastic(svc)


def _rebuild_into(svc: Services, new) -> None:
    """Replay the log into `new` with a progress bar, then take what arrived meanwhile."""
    from pipeline.dispatch.indexer import indexer

    follower = indexer(svc, new)
    total = svc.store.max_notification_id()
    with progress_bar(total=total, desc="reindexing", unit=" events") as bar:
        follower.catch_up(on_progress=lambda pos, _top: bar.update(pos - bar.n))
    follower.catch_up()


def _reindex_tantivy(svc: Services) -> int:
    from search.tantivy.index import TantivyIndex

    live = Path(unquote(urlsplit(svc.settings.search_url).path))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    target = live.with_name(f"{live.name}-{stamp}")
    new = TantivyIndex(target)
    _rebuild_into(svc, new)
    count = new.count()
    new.close()
    _switch_symlink(live, target, stamp)
    click.echo(f"reindexed {count} documents into {target}; {live} now points at it")
    return 0


def _switch_symlink(live: Path, target: Path, stamp: str) -> None:
    """Point `live` at `target` atomically (a running server picks it up on restart)."""
    if live.exists() and not live.is_symlink():
        live.rename(live.with_name(f"{live.name}-before-{stamp}"))
    tmp = live.with_name(f".{live.name}.{stamp}")
    os.symlink(target.name, tmp)
    os.replace(tmp, live)


def _reindex_elastic(svc: Services) -> int:
    from search.elastic.index import ElasticIndex

    live = ElasticIndex.from_url(svc.settings.search_url)
    name = live.create_index(live.next_index_name())
    _rebuild_into(svc, live.for_index(name))
    live.switch_alias(name)
    click.echo(f"reindexed into {name}; the alias now points at it")
    return 0


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
    """Search records in any spelling (with or without diacritics), by place and by number.

    On embedded defaults the index is brought up to date first; otherwise a lagging index is
    reported on stderr."""
    from scanners.cli.catchup import catch_up_index
    from scanners.cli.search import build_query, run_search

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
    svc = services()
    catch_up_index(svc)
    sys.exit(run_search(svc, query, as_json))


@main.command()
def reindex() -> None:
    """Build a new search index from the log and switch over when it has caught up."""
    from scanners.cli.search import run_reindex

    sys.exit(run_reindex(services()))
