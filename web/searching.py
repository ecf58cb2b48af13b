"""Search requests from the web: parameters to a `Query`, results to plain data."""

from __future__ import annotations

from typing import Any

from pipeline.bootstrap import Services
from search.query import Query, QueryError

PUBLIC_FACETS = ("kind", "type", "rank", "ward", "period", "has_model", "has_documents")
OFFICER_FACETS = ("kind", "unit_code", "purpose", "ward")
PAGE_SIZE = 20


def build_query(
    text: str, role: str, facets: list[str], page: int, size: int = PAGE_SIZE, kinds: tuple = ()
) -> Query:
    """`facets` are "name=value" filters; only the role's facet names are accepted."""
    allowed = PUBLIC_FACETS if role == "public" else OFFICER_FACETS + PUBLIC_FACETS
    filters: dict[str, list[str]] = {}
    for f in facets:
        name, sep, value = f.partition("=")
        if not sep or name not in allowed:
            raise QueryError(f"unknown filter {name!r}; filters: {', '.join(allowed)}")
        filters.setdefault(name, []).append(value)
    if kinds:
        filters["kind"] = list(kinds)
    if page < 1 or size < 1:
        raise QueryError("page and size start at 1")
    return Query(
        text=text,
        role=role,
        filters=filters,
        facets=PUBLIC_FACETS if role == "public" else OFFICER_FACETS,
        offset=(page - 1) * size,
        limit=size,
    )


def run(services: Services, query: Query) -> dict[str, Any]:
    """Plain results; for the public only what the index returns to a public query."""
    result = services.index.search(query)
    hits = []
    for h in result.hits:
        fields = h.fields
        hits.append(
            {
                "id": h.id,
                "title": h.title,
                "kind": h.kind,
                "score": round(h.score, 4),
                "highlight": h.highlight,
                "url": hit_url(h.id, h.kind, fields, query.role),
                "lat": fields.get("lat"),
                "lon": fields.get("lon"),
                "geometry": fields.get("geometry"),
                "fields": fields,
            }
        )
    return {
        "total": result.total,
        "hits": hits,
        "facets": result.facets,
        "showing": result.showing,
    }


def hit_url(ident: str, kind: str, fields: dict[str, Any], role: str) -> str:
    """A record's page; a capture's place on its (first) record's page."""
    prefix = "/records/" if role == "public" else "/staff/records/"
    if kind == "capture":
        links = fields.get("links") or []
        if role != "public" or not links:
            return f"/staff/captures/{ident}"
        return f"{prefix}{links[0]}#capture-{ident}"
    return f"{prefix}{ident}"


__all__ = ["QueryError", "build_query", "run"]
