"""Before `sohoa search` and `sohoa parcel` answer: an index that misses what was imported
gives empty answers with no hint, so on embedded defaults (SQLite store, in-memory broker,
tantivy) the command brings the index up to date itself; when a follower runs elsewhere (or a
running `sohoa serve` holds the embedded index), it says how far behind the index is."""

from __future__ import annotations

import click

from pipeline.bootstrap import Services
from scanners.cli.progress import progress_bar
from search.index import SearchUnavailableError


def embedded(svc: Services) -> bool:
    """Whether nothing else follows the log: the defaults, where only `sohoa serve` would."""
    s = svc.settings
    return (
        s.broker_url.startswith("memory")
        and s.eventstore_url.startswith("sqlite")
        and s.search_url.startswith("tantivy")
    )


def catch_up_index(svc: Services) -> int:
    """Bring the index up to the log on embedded defaults; else (or when another process
    holds the index) say on stderr how many events it is behind. Returns that lag."""
    from pipeline.dispatch.indexer import indexer

    follower = indexer(svc)
    behind = follower.lag()
    if not behind:
        return 0
    if embedded(svc):
        try:
            with progress_bar(total=behind, desc="updating the index", unit=" events") as bar:
                start = follower.position()
                follower.catch_up(on_progress=lambda pos, _top: bar.update(pos - start - bar.n))
            svc.index.refresh()
            return follower.lag()
        except SearchUnavailableError:
            pass  # a running `sohoa serve` holds the index's writer: it is catching up
    click.echo(
        f"note: the search index is {behind} event(s) behind the record store; answers may "
        "miss the latest changes until the follower (`sohoa follow` or `sohoa serve`) catches up",
        err=True,
    )
    return behind
