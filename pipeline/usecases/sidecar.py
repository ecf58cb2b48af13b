"""Capture metadata from a JSON sidecar beside a file or a CSV manifest for a batch.

Fields are plain snake_case; unknown or mistyped fields are an error naming the
field, so a typo never silently drops a link to a parcel or a site.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.application import RecordRef
from models.capture import KINDS
from models.ids import ERAS, InvalidKeyError, ParcelKey, site_id
from pipeline.errors import InputRejectedError

MAX_SIDECAR_BYTES = 256 * 1024

FIELDS: dict[str, type | tuple[type, ...]] = {
    "kind": str,
    "title": str,
    "description": str,
    "collection": str,
    "language": str,
    "dpi": int,
    "device": str,
    "captured_at": str,
    "operator": str,
    "station": str,
    "tags": list,
    "unit_code": (str, int),
    "unit_era": str,
    "sheet": (str, int),
    "parcel_number": (str, int),
    "site_code": str,
    "document_code": str,
}
"""Accepted sidecar fields and their JSON types (README "Sidecar metadata")."""

PARCEL_FIELDS = ("unit_code", "unit_era", "sheet", "parcel_number")


@dataclass(frozen=True)
class CaptureMeta:
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str | None:
        return self.values.get("kind")

    def merged(self, other: CaptureMeta) -> CaptureMeta:
        return CaptureMeta({**self.values, **other.values})

    def records(self) -> list[RecordRef]:
        """The parcel or site records this capture is linked to."""
        refs = []
        v = self.values
        if any(k in v for k in PARCEL_FIELDS):
            missing = [k for k in PARCEL_FIELDS if k not in v and k != "unit_era"]
            if missing:
                raise InputRejectedError(f"parcel link needs {', '.join(missing)}")
            era = v.get("unit_era", "2025")
            key = _key(ParcelKey.of, v["unit_code"], era, v["sheet"], v["parcel_number"])
            refs.append(RecordRef("parcel", key.as_record_key()))
        if v.get("site_code"):
            _key(site_id, v["site_code"])
            refs.append(RecordRef("site", {"code": v["site_code"].strip().upper()}))
        if v.get("document_code"):
            refs.append(RecordRef("document", {"code": v["document_code"].strip().upper()}))
        return refs

    def stored(self) -> dict[str, Any]:
        """What goes into the Received event (links are recorded separately)."""
        return {k: v for k, v in self.values.items() if k not in ("kind", "operator", "station")}


def _key(fn, *args):
    try:
        return fn(*args)
    except InvalidKeyError as e:
        raise InputRejectedError(str(e)) from None


def validate(values: dict[str, Any], where: str) -> CaptureMeta:
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise InputRejectedError(f"{where}: unknown field(s) {', '.join(unknown)}")
    for name, value in values.items():
        expected = FIELDS[name]
        if isinstance(value, bool) or not isinstance(value, expected):
            want = (
                expected.__name__
                if isinstance(expected, type)
                else " or ".join(t.__name__ for t in expected)
            )
            raise InputRejectedError(
                f"{where}: field {name} must be {want}, got {type(value).__name__}"
            )
    if "kind" in values and values["kind"] not in KINDS:
        raise InputRejectedError(f"{where}: kind must be one of {', '.join(KINDS)}")
    if "unit_era" in values and values["unit_era"] not in ERAS:
        raise InputRejectedError(f"{where}: unit_era must be one of {', '.join(ERAS)}")
    if "tags" in values and not all(isinstance(t, str) for t in values["tags"]):
        raise InputRejectedError(f"{where}: tags must be a list of strings")
    meta = CaptureMeta(dict(values))
    meta.records()  # malformed parcel or site keys fail here, naming the sidecar
    return meta


def read_json(path: Path) -> CaptureMeta:
    if path.stat().st_size > MAX_SIDECAR_BYTES:
        raise InputRejectedError(f"sidecar {path.name} is over {MAX_SIDECAR_BYTES} bytes")
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputRejectedError(f"sidecar {path.name} is not valid JSON: {e}") from None
    except RecursionError:
        raise InputRejectedError(f"sidecar {path.name} is nested too deeply") from None
    if not isinstance(values, dict):
        raise InputRejectedError(f"sidecar {path.name} must hold a JSON object")
    return validate(values, f"sidecar {path.name}")


def sidecar_for(path: Path) -> Path | None:
    """`scan.tif.json` or `scan.json` beside `scan.tif`."""
    for candidate in (path.with_name(path.name + ".json"), path.with_suffix(".json")):
        try:
            if candidate != path and candidate.is_file():
                return candidate
        except OSError:  # e.g. a 255-byte name plus ".json" is too long for the file system
            continue
    return None


def read_manifest(path: Path) -> dict[Path, CaptureMeta | InputRejectedError]:
    """A CSV manifest: a `path` column (relative to the manifest) and any sidecar fields.

    A bad row is kept as its error, so the file it names is reported and the rest goes through.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            return _manifest_rows(csv.DictReader(f), path)
    except UnicodeDecodeError:
        raise InputRejectedError(f"manifest {path.name} is not UTF-8 text") from None
    except csv.Error as e:
        raise InputRejectedError(f"manifest {path.name} is not a readable CSV: {e}") from None


def _manifest_rows(
    reader: csv.DictReader, path: Path
) -> dict[Path, CaptureMeta | InputRejectedError]:
    rows: dict[Path, CaptureMeta | InputRejectedError] = {}
    base = path.parent.resolve()
    if not reader.fieldnames or "path" not in reader.fieldnames:
        raise InputRejectedError(f"manifest {path.name} needs a 'path' column")
    for line, row in enumerate(reader, start=2):
        where = f"manifest {path.name} line {line}"
        try:
            target = (base / _cell(row.pop("path"))).resolve()
        except (ValueError, OSError) as e:  # a NUL byte, a name too long
            raise InputRejectedError(f"{where}: unusable path ({e})") from None
        values: dict[str, Any] = {
            k: _cell(v) for k, v in row.items() if k and v not in (None, "", [])
        }
        if "dpi" in values and values["dpi"].isascii() and values["dpi"].isdigit():
            values["dpi"] = int(values["dpi"])
        if "tags" in values:
            values["tags"] = [t.strip() for t in values["tags"].split(";") if t.strip()]
        try:
            if not target.is_relative_to(base):
                raise InputRejectedError(f"{where}: path escapes the manifest's folder")
            rows[target] = validate(values, where)
        except InputRejectedError as e:
            rows[target] = e
    return rows


def _cell(value: str | list[str] | None) -> str:
    """A cell as text (DictReader gives a row's surplus cells as a list under key None)."""
    if isinstance(value, list):
        return ",".join(value)
    return value or ""


def read_meta_file(path: Path) -> CaptureMeta | dict[Path, CaptureMeta | InputRejectedError]:
    """`--meta FILE`: a JSON object for every input, or a CSV manifest per file."""
    if path.suffix.lower() == ".csv":
        return read_manifest(path)
    return read_json(path)
