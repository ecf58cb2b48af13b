"""The tantivy index's schema, and documents in and out of it.

Text is indexed three ways for Vietnamese, each in its own field group (`names`: title, name,
aliases; `body`: description, OCR text and the other public values; `restricted`: personal
data, searched only for officers):

- `<group>_exact`: `models.language.text.normalise` (NFC, canonical tone placement, lower case), so
  "hoà" and "hòa" are one term and an accented query matches its own spelling;
- `<group>_folded`: `models.language.text.fold` (no diacritics, đ → d), so "dong da" finds "Đống
Đa".

Facets and filters are raw string fields (`FACETS`); numbers are f64 fast fields (`RANGES`, and
the envelope of a document's geometry, `GEO_FIELDS`); `tiles` holds the `search.tantivy.tiles`
terms of
that envelope, which narrow land queries before the exact test; certificate numbers are raw
`KEYS` fields holding `models.language.text.certificate_key`.
The whole document is stored as JSON in two byte fields, `public` and `restricted`, so a public
hit never even reads the restricted one.
"""

from __future__ import annotations

import json
import math
from typing import Any

import tantivy

from models.language.text import certificate_keys, fold, normalise
from search.documents import flatten_text
from search.geo.geometry import envelope, point_shape
from search.index import Document
from search.query import FACETS, KEYS, RANGES
from search.tantivy.tiles import document_tiles

GROUPS = ("names", "body", "restricted")
NAME_KEYS = frozenset({"name", "aliases"})
NOT_TEXT_KEYS = frozenset({"geometry", "lat", "lon"}) | NAME_KEYS
MAX_FACET_CHARS = 200
GEO_FIELDS = ("min_lon", "min_lat", "max_lon", "max_lat")
"""The envelope of a document's geometry (its point when it has no shape)."""
KEY_FIELDS = {name: f"key_{name}" for name in KEYS}
TILES = "tiles"


class IncompatibleIndexError(RuntimeError):
    """The index folder was built with another schema: rebuild it (`sohoa reindex`)."""


def build_schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_text_field("id", stored=True, fast=True, tokenizer_name="raw")
    b.add_integer_field("version", stored=True, indexed=True, fast=True)
    for name in FACETS:
        b.add_text_field(name, stored=True, fast=True, tokenizer_name="raw")
    for name in KEY_FIELDS.values():
        b.add_text_field(name, tokenizer_name="raw")
    b.add_text_field(TILES, tokenizer_name="raw")
    for group in GROUPS:
        b.add_text_field(f"{group}_exact", tokenizer_name="default")
        b.add_text_field(f"{group}_folded", tokenizer_name="default")
    for name in (*RANGES, *GEO_FIELDS):
        b.add_float_field(name, indexed=True, fast=True)
    b.add_bytes_field("public", stored=True)
    b.add_bytes_field("restricted", stored=True)
    return b.build()


SCHEMA = build_schema()
ANALYZER = (
    tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    .filter(tantivy.Filter.remove_long(40))
    .filter(tantivy.Filter.lowercase())
    .build()
)
"""The query-side twin of tantivy's `default` tokenizer used by the text fields."""


def place_of(doc: Document) -> dict[str, Any] | None:
    """The geometry land queries test: the shape, else the point."""
    if doc.shape is not None:
        return doc.shape
    return point_shape(*doc.point) if doc.point is not None else None


def to_tantivy(doc: Document) -> tantivy.Document:
    t = tantivy.Document()
    t.add_text("id", doc.id)
    t.add_integer("version", doc.version)
    for name, values in facet_values(doc).items():
        for value in values:
            t.add_text(name, value)
    _add_text(t, doc)
    numbers = _numbers(doc)
    for name, number in numbers.items():
        t.add_float(name, number)
    if all(name in numbers for name in GEO_FIELDS):
        west, south, east, north = (numbers[name] for name in GEO_FIELDS)
        for tile in document_tiles((west, south, east, north)):
            t.add_text(TILES, tile)
    for name, keys in _keys(doc).items():
        for key in keys:
            t.add_text(KEY_FIELDS[name], key)
    t.add_bytes("public", _json_bytes(_stored_public(doc)))
    t.add_bytes("restricted", _json_bytes(doc.restricted))
    return t


SHAPE_IS_GEOMETRY = "shape_is_geometry"
"""Set in a stored document whose public `geometry` is its shape, stored once (a parcel's
polygon was written twice: half of the stored JSON, and of the time spent encoding it)."""


def _stored_public(doc: Document) -> dict[str, Any]:
    public = doc.public
    once = doc.shape is not None and public.get("geometry") == doc.shape
    if once:
        public = {k: v for k, v in public.items() if k != "geometry"}
    stored = {
        "id": doc.id,
        "version": doc.version,
        "kind": doc.kind,
        "title": doc.title,
        "published": doc.published,
        "public": public,
        "text": doc.text,
        "point": doc.point,
        "shape": doc.shape,
    }
    if once:
        stored[SHAPE_IS_GEOMETRY] = True
    return stored


def _add_text(t: tantivy.Document, doc: Document) -> None:
    for group, parts in text_groups(doc).items():
        exact, folded = f"{group}_exact", f"{group}_folded"
        for part in parts:
            if part.isascii():  # codes and numbers: both forms are the lower case
                lowered = part.lower()
                t.add_text(exact, lowered)
                t.add_text(folded, lowered)
            else:
                t.add_text(exact, normalise_words(part))
                t.add_text(folded, fold(part))


def normalise_words(text: str) -> str:
    """`normalise(text)`, space by space: each word's form is remembered (`normalise` caches
    short strings), so a title unique to its document ("Thửa 12, tờ 7, Phường Giảng Võ") costs
    a few look-ups instead of a pass of the tone rules. The same text: tones, case and NFC
    composition never reach across a space."""
    return " ".join([normalise(word) for word in text.split(" ")])


def text_groups(doc: Document) -> dict[str, list[str]]:
    names = [doc.title, *(v for k in NAME_KEYS for v in flatten_text(doc.public.get(k)))]
    body = [doc.text] if doc.text else []
    for key, value in doc.public.items():
        if key not in NOT_TEXT_KEYS and value != doc.text:
            body.extend(flatten_text(value))
    return {"names": names, "body": body, "restricted": list(flatten_text(doc.restricted))}


def facet_values(doc: Document) -> dict[str, list[str]]:
    values = {"kind": [doc.kind], "published": [_flag(doc.published)]}
    for name in FACETS[2:]:
        values[name] = _facet_strings(doc.public.get(name))
    new_wards = _facet_strings(doc.public.get("ward_new"))
    values["ward"] += [w for w in new_wards if w not in values["ward"]]
    return {k: v for k, v in values.items() if v}


def _facet_strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, bool):
        return [_flag(value)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _facet_strings(v)]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()[:MAX_FACET_CHARS]
    return [text] if text else []


def _numbers(doc: Document) -> dict[str, float]:
    numbers: dict[str, float] = {}
    area = doc.public.get("area_m2")
    if isinstance(area, int | float) and not isinstance(area, bool) and math.isfinite(area):
        numbers["area_m2"] = float(area)
    if doc.point is not None:
        numbers["lat"], numbers["lon"] = float(doc.point[0]), float(doc.point[1])
    place = place_of(doc)
    box = envelope(place) if place is not None else None
    if box is not None and all(math.isfinite(v) for v in box):
        numbers.update(zip(GEO_FIELDS, box, strict=True))
    return numbers


def _keys(doc: Document) -> dict[str, list[str]]:
    """Certificate numbers, from the restricted fields only (they are personal data)."""
    return {name: found for name in KEYS if (found := certificate_keys(doc.restricted.get(name)))}


def from_tantivy(t: tantivy.Document, restricted: bool = True) -> Document:
    """The stored document; with `restricted=False` its restricted fields are not even read."""
    public = json.loads(bytes(t.get_first("public")))
    if public.get(SHAPE_IS_GEOMETRY):
        public["public"]["geometry"] = public["shape"]
    point = public.get("point")
    return Document(
        id=public["id"],
        version=public["version"],
        kind=public["kind"],
        title=public["title"],
        published=public["published"],
        public=public["public"],
        restricted=json.loads(bytes(t.get_first("restricted"))) if restricted else {},
        text=public["text"],
        point=tuple(point) if point else None,  # type: ignore[arg-type]
        shape=public["shape"],
    )


_JSON = json.JSONEncoder(ensure_ascii=False, default=str)
"""One encoder for every stored document (`json.dumps` with options builds one per call)."""


def _json_bytes(value: Any) -> bytes:
    return _JSON.encode(value).encode("utf-8")


def _flag(value: bool) -> str:
    return "true" if value else "false"
