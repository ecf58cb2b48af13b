"""Readers of import files: JSON Lines, CSV, GeoJSON."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO

import ijson
from ijson.common import ObjectBuilder

from pipeline.errors import InputRejectedError
from pipeline.usecases.importing.rows import WGS84, RawRow
from pipeline.usecases.importing.values import _has_surrogates, _json_type, _nfc

FORMATS = ("jsonl", "csv", "geojson")
BOM = b"\xef\xbb\xbf"
UTF8 = "not valid UTF-8"


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
            return _count_features(path)
        count = 0
        with open(path, "rb") as f:
            for raw in f:
                if raw.strip():
                    count += 1
        return max(count - 1, 0) if fmt == "csv" else count
    except (OSError, InputRejectedError):
        return None


def _count_features(path: Path) -> int:
    """Occurrences of `"Feature"`, read a MiB at a time (a match may span two reads)."""
    mark, count, carry = b'"Feature"', 0, b""
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            data = carry + chunk
            count += data.count(mark)
            carry = data[-(len(mark) - 1) :]
    return count


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


# -- GeoJSON, streamed ---------------------------------------------------------


class _Chunks:
    """A binary file read as ijson reads it, remembering where the last chunk began; after
    `slow_from` it hands out one byte at a time, so a parse error loses no feature before it."""

    def __init__(self, f: BinaryIO, slow_from: int | None = None) -> None:
        self.f, self.slow_from = f, slow_from
        self.offset = self.chunk_start = 0

    def read(self, size: int = -1) -> bytes:
        if self.slow_from is not None and self.offset + size > self.slow_from:
            size = max(self.slow_from - self.offset, 1)
        data = self.f.read(size)
        self.chunk_start, self.offset = self.offset, self.offset + len(data)
        return data


def _open_json(path: Path) -> BinaryIO:
    f = open(path, "rb")  # noqa: SIM115 (closed by the caller)
    if f.read(3) != BOM:
        f.seek(0)
    return f


def _geojson_head(path: Path) -> tuple[str | None, dict[str, Any], bool]:
    """The top-level `type`, the members read before `features` (their values), and whether
    a `features` array follows. Only the members before `features` are read: RFC 7946 writers
    (GDAL, QGIS) put `type` and `crs` first."""
    kind: str | None = None
    members: dict[str, Any] = {}
    builder: ObjectBuilder | None = None
    member, depth = "", 0
    with _open_json(path) as f:
        try:
            for prefix, event, value in ijson.parse(f, use_float=True):
                if prefix == "" and event == "map_key":
                    if value == "features":
                        member = "features"
                        continue
                    member, builder = value, ObjectBuilder()
                elif member == "features":
                    return kind, members, event == "start_array"
                elif builder is not None:
                    builder.event(event, value)
                    depth += event in ("start_map", "start_array")
                    depth -= event in ("end_map", "end_array")
                    if depth == 0:
                        members[member], builder = builder.value, None
                        if member == "type":
                            kind = value if isinstance(value, str) else None
        except ijson.JSONError as e:
            raise InputRejectedError(f"{path.name} is not valid JSON: {_reason(e)}") from None
        except UnicodeDecodeError:
            raise InputRejectedError(f"{path.name} is not valid UTF-8") from None
    return kind, members, False


def _reason(error: Exception) -> str:
    """yajl's first line ("parse error: …", "lexical error: …"; bytes or text), without the
    excerpt it draws under it."""
    message = error.args[0] if error.args else str(error)
    if isinstance(message, bytes):
        message = message.decode("utf-8", errors="replace")
    first = str(message).split("\n", 1)[0].strip()
    if "invalid bytes in UTF8" in first:
        return UTF8
    return first.removeprefix("parse error: ").removeprefix("lexical error: ")


def _geojson_rows(path: Path) -> Iterator[RawRow]:
    """Feature by feature (ijson's C parser): memory does not grow with the file. A file that
    stops being JSON part way keeps the features before the fault; the fault is the last row."""
    kind, members, has_features = _geojson_head(path)
    if kind == "Feature" and not has_features:
        doc = _whole(path)
        yield from _feature_rows(path, [doc], collection_crs(doc, path.name))
        return
    if kind not in ("FeatureCollection", None) or (kind is None and not has_features):
        raise InputRejectedError(
            f"{path.name} is JSON but not a GeoJSON FeatureCollection (type {kind!r})"
        )
    if not has_features:
        raise InputRejectedError(f"{path.name}: a FeatureCollection needs a features list")
    crs = collection_crs(members, path.name)
    read = 0
    with _open_json(path) as f:
        chunks = _Chunks(f)
        try:
            for row in _feature_rows(path, _features(chunks), crs):
                read = row.line
                yield row
            return
        except (ijson.JSONError, UnicodeDecodeError) as e:
            fault_chunk, error = chunks.chunk_start, e
    # the chunk that failed may hold whole features before the fault: read it byte by byte
    with _open_json(path) as f:
        chunks = _Chunks(f, slow_from=fault_chunk)
        try:
            for row in _feature_rows(path, _features(chunks), crs):
                if row.line > read:
                    read = row.line
                    yield row
        except (ijson.JSONError, UnicodeDecodeError) as e:
            error = e
    reason = UTF8 if isinstance(error, UnicodeDecodeError) else _reason(error)
    fault = reason if reason == UTF8 else f"not valid JSON ({reason})"
    if not read:
        raise InputRejectedError(f"{path.name} is {fault}")
    yield RawRow(
        read + 1,
        f"feature {read + 1} onwards (byte {chunks.offset:,})",
        "rest",
        error=f"{fault}: the rest of the file was not read",
    )


def _features(chunks: _Chunks) -> Iterator[Any]:
    return ijson.items(chunks, "features.item", use_float=True)


def _whole(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InputRejectedError(f"{path.name} is not valid UTF-8") from None
    except (ValueError, RecursionError) as e:
        raise InputRejectedError(f"{path.name} is not valid JSON: {e}") from None


def _feature_rows(path: Path, features: Iterable[Any], crs: str) -> Iterator[RawRow]:
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
