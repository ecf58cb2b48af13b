"""What the Elasticsearch backend stores: index templates, `_source` in, documents out.

Vietnamese text uses built-in analysis only (the ICU and Vietnamese-tokenizer plugins may be
absent, and neither canonicalises tone placement): `vi_folded` (standard tokenizer, lowercase,
asciifolding, which maps đ to d) analyses every text field; its `.exact` sub-field (`vi_exact`:
standard tokenizer, lowercase) keeps the accents and is boosted at query time, so the accented
spelling ranks first. NFC and canonical tone placement ("hòa" -> "hoà", `models.language.text`) are
done
here, client side, on documents and on query text alike; case is kept (the analyzers lower-case
it) so highlights read naturally.

Document `_source`: `title`, `name`, `aliases`, `text`, `public_text` (every other public value)
in matching form; facet keywords (`FACETS`); `area_m2`, `lat`, `lon`, `point` (geo_point) and
`shape` (geo_shape: the geometry, or the point when there is none, which `original.shape: null`
then records); `public`, `original` (what was given, where the indexed form differs) and
`restricted_original`, stored but not indexed; `restricted`, one matching-form text per
restricted key, indexed for officers; `restricted_keys`, the certificate numbers as keywords
(`models.language.text.certificate_key`). Public text is copied into the catch-all `search_all`,
public
and restricted text into `restricted_all`, so words may match across fields.

The mapping cannot be poisoned by a value's shape: only `restricted` maps new fields, always as
text (a dynamic template for every JSON type; date and numeric detection off), so a first
certificate date under `restricted.issue_date` does not make the field a date that refuses
every later value.

Writes are idempotent: bulk `index` actions carry the aggregate version with
`version_type=external`; the node refuses an equal or older version with 409, which counts as
"not stored".
"""

from __future__ import annotations

import re
from typing import Any

from models.language.text import canonical_tones, certificate_keys, nfc
from search.documents import flatten_text
from search.geo.geometry import point_shape
from search.index import Document
from search.query import FACETS, KEYS, RANGES

TEMPLATE_VERSION = 4  # 4: the `retired` facet
MAX_FACET_CHARS = 200
NAMES = ("title", "name", "aliases")
TEXT_FIELDS = (*NAMES, "text", "public_text")
NOT_TEXT = frozenset({"geometry", "lat", "lon", "name", "aliases"})
CATCH_ALL = {"public": "search_all", "officer": "restricted_all"}
STORED_ONLY = ("public", "original", "restricted_original")


def match_form(text: str) -> str:
    """What the analyzers are given: NFC, new-style tone placement, case kept."""
    return nfc(canonical_tones(text))


def source_of(doc: Document) -> dict[str, Any]:
    """The `_source` sent for a document (layout in the module docstring)."""
    source: dict[str, Any] = {
        "id": doc.id,
        "version": doc.version,
        "kind": doc.kind,
        "published": doc.published,
        "title": match_form(doc.title),
    }
    original = {} if source["title"] == doc.title else {"title": doc.title}
    for name in ("name", "aliases"):
        if names := [match_form(s) for s in flatten_text(doc.public.get(name))]:
            source[name] = names
    if doc.text:
        source["text"] = match_form(doc.text)
        if source["text"] != doc.text:
            original["text"] = doc.text
    others = [v for k, v in doc.public.items() if k not in NOT_TEXT and v != doc.text]
    if public_text := " ".join(flatten_text(others)):
        source["public_text"] = match_form(public_text)
    source.update(_facet_values(doc))
    source.update(_places(doc))
    source["public"] = doc.public
    if doc.shape is None and doc.point is not None:
        original["shape"] = None  # `shape` holds the point, for land queries
    if original:
        source["original"] = original
    if doc.restricted:
        source["restricted"] = _restricted_text(doc.restricted)
        source["restricted_original"] = doc.restricted
        if keys := _certificate_keys(doc.restricted):
            source["restricted_keys"] = keys
    return source


def _certificate_keys(restricted: dict[str, Any]) -> dict[str, list[str]]:
    return {name: found for name in KEYS if (found := certificate_keys(restricted.get(name)))}


def _facet_values(doc: Document) -> dict[str, list[str]]:
    """Facet keywords as the tantivy backend has them (`ward` also lists `ward_new`)."""
    values = {name: _keywords(doc.public.get(name)) for name in FACETS[2:]}
    values["ward"] += [w for w in _keywords(doc.public.get("ward_new")) if w not in values["ward"]]
    return {name: found for name, found in values.items() if found}


def _keywords(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [s for item in value for s in _keywords(item)]
    text = keyword(value).strip()[:MAX_FACET_CHARS]
    return [text] if text else []


def keyword(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _places(doc: Document) -> dict[str, Any]:
    places: dict[str, Any] = {}
    area = doc.public.get("area_m2")
    if isinstance(area, int | float) and not isinstance(area, bool):
        places["area_m2"] = area
    if doc.point is not None:
        lat, lon = doc.point
        places.update(lat=lat, lon=lon, point={"lat": lat, "lon": lon})
    if doc.shape is not None:
        places["shape"] = doc.shape
    elif doc.point is not None:
        places["shape"] = point_shape(*doc.point)
    return places


def _restricted_text(restricted: dict[str, Any]) -> dict[str, str]:
    """One text per restricted key (every string and number inside it), whatever its shape,
    so the mapping stays the same when one source gives a string and the next a list."""
    texts: dict[str, str] = {}
    for key, value in restricted.items():
        name = re.sub(r"[^a-z0-9_]+", "_", str(key).lower()).strip("_") or "value"
        if text := " ".join(flatten_text(value)):
            texts[name] = match_form(f"{texts[name]} {text}" if name in texts else text)
    return texts


def document_of(source: dict[str, Any]) -> Document:
    original = source.get("original") or {}
    point = source.get("point")
    return Document(
        id=source["id"],
        version=int(source["version"]),
        kind=source["kind"],
        title=original.get("title", source.get("title", "")),
        published=bool(source.get("published")),
        public=source.get("public") or {},
        restricted=source.get("restricted_original") or {},
        text=original.get("text", source.get("text", "")),
        point=(point["lat"], point["lon"]) if point else None,
        shape=original["shape"] if "shape" in original else source.get("shape"),
    )


def _text_mapping(*copy_to: str) -> dict[str, Any]:
    mapping: dict[str, Any] = {
        "type": "text",
        "analyzer": "vi_folded",
        "fields": {"exact": {"type": "text", "analyzer": "vi_exact"}},
    }
    if copy_to:
        mapping["copy_to"] = list(copy_to)
    return mapping


def index_template(alias: str) -> dict[str, Any]:
    """`indices.put_index_template` arguments for the search indices `<alias>-*`."""
    both = tuple(CATCH_ALL.values())
    properties: dict[str, Any] = {
        "id": {"type": "keyword"},
        "version": {"type": "long"},
        **{name: {"type": "keyword"} for name in FACETS},
        **{name: _text_mapping(*both) for name in TEXT_FIELDS},
        **{name: {"type": "double"} for name in RANGES},
        "point": {"type": "geo_point", "ignore_malformed": True},
        "shape": {"type": "geo_shape", "ignore_malformed": True},
        **{name: {"type": "object", "enabled": False} for name in STORED_ONLY},
        "restricted": {"type": "object", "dynamic": True},
        "restricted_keys": {"properties": {name: {"type": "keyword"} for name in KEYS}},
        **{name: _text_mapping() for name in both},
    }
    restricted_text = {  # every value under `restricted`, whatever its JSON type, is text
        "path_match": "restricted.*",
        "match_mapping_type": "*",
        "mapping": _text_mapping(CATCH_ALL["officer"]),
    }
    folded = {"type": "custom", "tokenizer": "standard", "filter": ["lowercase", "asciifolding"]}
    exact = {"type": "custom", "tokenizer": "standard", "filter": ["lowercase"]}
    settings = {
        "number_of_shards": 1,
        "auto_expand_replicas": "0-1",
        "analysis": {"analyzer": {"vi_folded": folded, "vi_exact": exact}},
    }
    mappings = {
        "dynamic": False,  # only `restricted` takes new (text) fields
        "date_detection": False,  # a date-like first value must not make the field a date
        "numeric_detection": False,
        "dynamic_templates": [{"restricted_text": restricted_text}],
        "properties": properties,
    }
    return {
        "index_patterns": [f"{alias}-*"],
        "priority": 100 + len(alias),
        "version": TEMPLATE_VERSION,
        "_meta": {"managed_by": "sohoa", "description": "search documents"},
        "template": {"settings": settings, "mappings": mappings},
    }


def positions_template(alias: str) -> dict[str, Any]:
    """`indices.put_index_template` arguments for the positions indices `<alias>-*-positions`."""
    mappings = {
        "dynamic": "strict",
        "properties": {"follower": {"type": "keyword"}, "notification_id": {"type": "long"}},
    }
    return {
        "index_patterns": [f"{alias}-*-positions"],
        "priority": 1000 + len(alias),  # above every search template whose pattern matches too
        "version": TEMPLATE_VERSION,
        "_meta": {"managed_by": "sohoa", "description": "follower positions"},
        "template": {
            "settings": {"number_of_shards": 1, "auto_expand_replicas": "0-1"},
            "mappings": mappings,
        },
    }
