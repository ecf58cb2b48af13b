"""Readers of import files: JSON Lines, CSV, GeoJSON."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from itertools import chain
from pathlib import Path
from typing import Any

from pipeline.errors import InputRejectedError
from pipeline.usecases.importing.rows import WGS84, RawRow
from pipeline.usecases.importing.values import _has_surrogates, _json_type, _nfc

FORMATS = ("jsonl", "csv", "geojson")
BOM = b"\xef\xbb\xbf"


# -- reading files ------------------------------------------------------------


def detect_format(path: Path) -> str:
    """jsonl, csv or geojson, from the first bytes; the extension only breaks ties."""
    ext = path.suffix.lower()
    try:
        with open(path, "rb") as f:
            head = f.read(65536)
    except OSError as e:
        raise InputRejectedError(f"cannot read {path}: {e.strerror or e}") from None
    text = head.removeprefix(BOM).lstrip()
    if not text:
        return {".csv": "csv", ".geojson": "geojson", ".json": "geojson"}.get(ext, "jsonl")
    if text[:1] == b"[":
        raise InputRejectedError(
            f"{path.name} is a JSON array; give one JSON object per line (JSON Lines) "
            "or a GeoJSON FeatureCollection"
        )
    if text[:1] != b"{":
        if ext in (".json", ".jsonl", ".ndjson", ".geojson"):
            raise InputRejectedError(f"{path.name} does not start with a JSON object")
        return "csv"
    first = text.split(b"\n", 1)[0]
    try:
        obj = json.loads(first)
    except (ValueError, RecursionError):
        obj = None
    if isinstance(obj, dict):
        geojson = obj.get("type") in ("FeatureCollection", "Feature") or ext == ".geojson"
        return "geojson" if geojson else "jsonl"
    if ext in (".jsonl", ".ndjson"):
        return "jsonl"
    if re.match(rb'\{\s*"type"\s*:\s*"(FeatureCollection|Feature)"', text):
        return "geojson"
    lines = [ln for ln in text.split(b"\n")[1:6] if ln.strip()]
    for ln in lines[:-1]:  # the last may be cut off by the 64 KiB read
        try:
            if isinstance(json.loads(ln), dict):
                return "jsonl"  # the first line is broken, the next are rows
        except (ValueError, RecursionError):
            pass
    return "geojson"


def count_rows(path: Path) -> int | None:
    """A cheap estimate of the number of rows, for a progress bar."""
    try:
        fmt = detect_format(path)
        if fmt == "geojson":
            return len(re.findall(rb'"type"\s*:\s*"Feature"', path.read_bytes()))
        count = 0
        with open(path, "rb") as f:
            for raw in f:
                if raw.strip():
                    count += 1
        return max(count - 1, 0) if fmt == "csv" else count
    except (OSError, InputRejectedError):
        return None


def read_rows(path: Path, fmt: str) -> Iterator[RawRow]:
    if fmt == "jsonl":
        return _jsonl_rows(path)
    if fmt == "csv":
        return _csv_rows(path)
    if fmt == "geojson":
        return _geojson_rows(path)
    raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")


def _jsonl_rows(path: Path) -> Iterator[RawRow]:
    with open(path, "rb") as f:
        for n, raw in enumerate(f, start=1):
            if n == 1:
                raw = raw.removeprefix(BOM)
            if not raw.strip():
                continue
            row = RawRow(n, f"line {n}", str(n))
            try:
                obj = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                row.error = "not valid UTF-8"
            except json.JSONDecodeError as e:
                row.error = f"not valid JSON: {e.msg} at column {e.colno}"
            except RecursionError:
                row.error = "JSON nested too deeply"
            else:
                if isinstance(obj, dict):
                    row.values = obj
                else:
                    row.error = f"a row must be a JSON object, got {_json_type(obj)}"
            yield row


def _csv_rows(path: Path) -> Iterator[RawRow]:
    with open(path, newline="", encoding="utf-8-sig", errors="surrogateescape") as f:
        first = f.readline()
        reader = csv.reader(chain([first], f), delimiter=_delimiter(first))
        header: list[str] | None = None
        previous = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                raise InputRejectedError(f"{path.name} line {reader.line_num}: {e}") from None
            line, previous = previous + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = [_nfc(c).strip() or f"(column {i})" for i, c in enumerate(cells, 1)]
                dup = sorted({h for h in header if header.count(h) > 1})
                if dup:
                    raise InputRejectedError(
                        f"{path.name}: column(s) {', '.join(dup)} appear more than once"
                    )
                continue
            row = RawRow(line, f"line {line}", str(line))
            if len(cells) > len(header):
                row.error = f"{len(cells)} cells but the header has {len(header)} columns"
            elif any(_has_surrogates(c) for c in cells):
                row.error = "not valid UTF-8 (save the file as UTF-8)"
            else:
                row.values = {h: c for h, c in zip(header, cells, strict=False) if c.strip()}
            yield row


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _geojson_rows(path: Path) -> Iterator[RawRow]:
    try:
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InputRejectedError(f"{path.name} is not valid UTF-8") from None
    except json.JSONDecodeError as e:
        raise InputRejectedError(f"{path.name} is not valid JSON: {e}") from None
    except RecursionError:
        raise InputRejectedError(f"{path.name}: JSON nested too deeply") from None
    kind = doc.get("type") if isinstance(doc, dict) else None
    if kind == "Feature":
        features: Any = [doc]
    elif kind == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list):
            raise InputRejectedError(f"{path.name}: a FeatureCollection needs a features list")
    else:
        raise InputRejectedError(
            f"{path.name} is JSON but not a GeoJSON FeatureCollection (type {kind!r})"
        )
    crs = collection_crs(doc, path.name)
    for n, feature in enumerate(features, start=1):
        row = RawRow(n, f"feature {n}", f"feature {n}", crs=crs)
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            row.error = "not a GeoJSON Feature"
        elif not isinstance(feature.get("properties") or {}, dict):
            row.error = "properties must be a JSON object"
        else:
            row.values = dict(feature.get("properties") or {})
            row.geometry = feature.get("geometry")
        yield row


def collection_crs(doc: dict[str, Any], name: str) -> str:
    """The CRS of a GeoJSON document: RFC 7946 lon/lat, or a legacy named `crs` member."""
    member = doc.get("crs")
    if member is None:
        return WGS84
    crs_name = member.get("properties", {}).get("name") if isinstance(member, dict) else None
    if isinstance(crs_name, str):
        if re.search(r"CRS:?84$", crs_name, re.IGNORECASE):
            return WGS84
        m = re.search(r"EPSG(?::[\d.]*:|:|/\d+/)(\d+)$", crs_name, re.IGNORECASE)
        if m:
            return f"EPSG:{int(m.group(1))}"
    raise InputRejectedError(f"{name}: unrecognised crs member {json.dumps(member)[:200]}")
