"""What the user pointed at, turned into items to ingest: files, ZIP members and sets.

Nothing here stores anything; it only decides what each input is and reads names
safely. A name that cannot be shown or trusted is an item with an error.
"""

from __future__ import annotations

import logging
import stat
import tempfile
import threading
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from pipeline.errors import InputRejectedError
from pipeline.media.bounded import internal_error
from pipeline.media.limits import Limits
from pipeline.media.probe import probe
from pipeline.media.sniff import ZIP
from pipeline.usecases.sidecar import CaptureMeta, read_json, sidecar_for

log = logging.getLogger(__name__)

SET_KINDS = ("photo-set", "scan-set")
SKIPPED_NAMES = ("done", "rejected", "__MACOSX")


class SharedArchive:
    """One ZIP opened once for all of its members, and closed after the last.

    Opening a ZIP reads its whole central directory: opened again for each member, a ZIP of
    n members cost n² (50,000 members: over a billion entries read). It is opened when its
    first member is read, not when it is listed, so listing many ZIPs holds no file open."""

    def __init__(self, path: Path, members: int) -> None:
        self.path = path
        self._left = members
        self._users = 0
        self._zip: zipfile.ZipFile | None = None
        self._lock = threading.Lock()

    @contextmanager
    def open(self, name: str) -> Iterator[tuple[zipfile.ZipInfo, IO[bytes]]]:
        """A member's entry and its bytes, as they inflate."""
        with self._lock:
            if self._zip is None:
                self._zip = zipfile.ZipFile(self.path)
            z = self._zip
            self._users += 1
        try:
            info = z.getinfo(name)
            with z.open(info) as f:
                yield info, f
        finally:
            with self._lock:
                self._users -= 1
                self._left -= 1
                if self._left <= 0 and self._users == 0 and self._zip is not None:
                    self._zip.close()
                    self._zip = None


@dataclass(frozen=True)
class ZipMember:
    archive: Path
    name: str
    shared: SharedArchive | None = field(default=None, compare=False, repr=False)


Source = Path | ZipMember


@dataclass
class Item:
    """One capture to be: a file, a ZIP member, or a set of members."""

    display: str
    source: Source | None = None
    members: list[tuple[str, Source]] = field(default_factory=list)
    meta: CaptureMeta = field(default_factory=CaptureMeta)
    kind: str | None = None
    error: str | None = None
    status: str = "rejected"
    """The verdict when `error` is set: rejected (bad input) or failed (our bug)."""
    sha256: str | None = None
    """Of the source file, when whoever received its bytes hashed them on the way (an upload)."""

    @property
    def is_set(self) -> bool:
        return self.kind in SET_KINDS


def display_name(name: str) -> str:
    """A name safe to print: control characters and undecodable bytes escaped."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(c if unicodedata.category(c) != "Cc" else f"\\x{ord(c):02x}" for c in text)


BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Characters that reorder how a name displays ("invoice\u202egnp.exe" shows as …exe.png)."""


def name_problem(name: str) -> str | None:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "file name is not valid UTF-8; rename the file"
    if any(unicodedata.category(c) == "Cc" for c in name):
        return "file name contains control characters; rename the file"
    if any(c in BIDI_CONTROLS for c in name):
        return "file name contains bidirectional control characters (it displays as another name)"
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or ".." in parts:
        return "path escapes its folder ('..' or absolute)"
    return None


def collect(paths: list[Path], kind: str | None, is_zip, limits: Limits) -> Iterator[Item]:
    """Items for every input path; `is_zip(path)` sniffs content, not the extension.

    Never raises: what goes wrong with one path is that path's item (with its error)."""
    for path in paths:
        shown = display_name(str(path))
        try:
            items = list(_items(path, shown, kind, is_zip, limits))
        except OSError as e:
            items = [Item(shown, error=f"cannot read: {e.strerror or type(e).__name__}")]
        except Exception:
            items = [Item(shown, error=internal_error(log, shown), status="failed")]
        yield from items


def _items(path: Path, shown: str, kind: str | None, is_zip, limits: Limits) -> Iterator[Item]:
    if problem := name_problem(path.name):
        yield Item(shown, error=problem)
    elif path.is_dir():
        yield from _folder(path, kind, is_zip, limits)
    elif not path.exists() and not path.is_symlink():
        yield Item(shown, error="no such file or folder")
    elif path.is_file() and is_zip(path):
        yield from _zip(path, kind, limits)
    else:
        yield Item(shown, source=path, kind=kind)


def _folder(folder: Path, kind: str | None, is_zip, limits: Limits) -> Iterator[Item]:
    files = sorted(_walk(folder))
    if kind in SET_KINDS:
        item = Item(display_name(str(folder)), kind=kind)
        for f in files:
            if problem := name_problem(str(f.relative_to(folder))) or _link_problem(f):
                yield Item(display_name(str(f)), error=problem)
            else:
                item.members.append((str(f.relative_to(folder)), f))
        yield item
        return
    for f in files:
        shown = display_name(str(f))
        try:
            yield from list(_file_items(f, shown, kind, is_zip, limits))
        except Exception:
            yield Item(shown, error=internal_error(log, shown), status="failed")


def _file_items(f: Path, shown: str, kind: str | None, is_zip, limits: Limits) -> Iterator[Item]:
    if problem := name_problem(f.name) or _link_problem(f):
        yield Item(shown, error=problem)
    elif is_zip(f):
        yield from _zip(f, kind, limits)
    else:
        yield Item(shown, source=f, kind=kind)


def _link_problem(path: Path) -> str | None:
    return "symbolic link; not followed" if path.is_symlink() else None


def _walk(folder: Path) -> Iterator[Path]:
    sidecars = set()
    entries = []
    for p in folder.rglob("*"):
        rel = p.relative_to(folder).parts
        if any(part.startswith(".") or part in SKIPPED_NAMES for part in rel):
            continue
        if p.is_symlink() or p.is_file():
            entries.append(p)
    for p in entries:
        if not p.is_symlink() and (s := sidecar_for(p)) is not None:
            sidecars.add(s)
    for p in entries:
        if p not in sidecars and p.suffix.lower() not in (".csv",):
            yield p


def _zip(path: Path, kind: str | None, limits: Limits) -> Iterator[Item]:
    """A hostile ZIP (entries escaping the folder, links, bombs) is rejected as a whole."""
    shown = display_name(str(path))
    try:
        probe(path, ZIP, limits)
        with zipfile.ZipFile(path) as z:
            infos = [i for i in z.infolist() if not i.is_dir()]
        for info in infos:
            if problem := _member_problem(info):
                raise InputRejectedError(f"ZIP entry {problem}")
    except InputRejectedError as e:
        yield Item(shown, error=str(e))
        return
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as e:
        yield Item(shown, error=f"not a readable ZIP: {e}")
        return
    names = [
        i.filename
        for i in infos
        if not i.filename.startswith("__MACOSX/")
        and not PurePosixPath(i.filename).name.startswith(".")
    ]
    shared = SharedArchive(path, len(names))
    members: list[tuple[str, Source]] = [(n, ZipMember(path, n, shared)) for n in names]
    if kind in SET_KINDS:
        yield Item(shown, members=members, kind=kind)
        return
    if not members:  # every input gets a verdict, an empty archive too
        yield Item(shown, error="ZIP holds no files")
        return
    for name, source in members:
        yield Item(f"{shown}!{display_name(name)}", source=source, kind=kind)


def _member_problem(info: zipfile.ZipInfo) -> str | None:
    if stat.S_ISLNK(info.external_attr >> 16):
        return f"'{display_name(info.filename)}' is a symbolic link"
    if problem := name_problem(info.filename):
        return f"'{display_name(info.filename)}': {problem}"
    return None


def sidecar_meta(source: Source) -> CaptureMeta:
    if isinstance(source, Path) and (s := sidecar_for(source)) is not None:
        return read_json(s)
    return CaptureMeta()


@contextmanager
def materialised(source: Source, tmp_dir: Path, limits: Limits) -> Iterator[Path]:
    """A file path holding the source's bytes.

    ZIP members are extracted to a temporary file, counting what actually inflates: the
    sizes a ZIP declares can lie, so the size and ratio limits are enforced on real bytes.
    """
    if isinstance(source, Path):
        yield source
        return
    tmp_dir.mkdir(parents=True, exist_ok=True)
    try:
        with _extracted(source, tmp_dir, limits) as path:
            yield path
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError) as e:
        raise InputRejectedError(f"corrupt ZIP entry {source.name}: {e}") from None
    except RuntimeError as e:  # zipfile: "File ... is encrypted, password required"
        raise InputRejectedError(f"ZIP entry {source.name}: {e}") from None


@contextmanager
def _member(source: ZipMember) -> Iterator[tuple[zipfile.ZipInfo, IO[bytes]]]:
    if source.shared is not None:
        with source.shared.open(source.name) as opened:
            yield opened
        return
    with zipfile.ZipFile(source.archive) as z, z.open(source.name) as src:
        yield z.getinfo(source.name), src


@contextmanager
def _extracted(source: ZipMember, tmp_dir: Path, limits: Limits) -> Iterator[Path]:
    with _member(source) as (info, src):
        cap = min(limits.max_file_bytes, max(info.compress_size, 1) * limits.max_zip_ratio)
        with tempfile.NamedTemporaryFile(dir=tmp_dir, prefix="zip-") as out:
            copied = 0
            while chunk := src.read(1024 * 1024):
                copied += len(chunk)
                if copied > cap:
                    raise InputRejectedError(
                        f"ZIP entry inflates past {cap} bytes (SOHOA_MAX_FILE_BYTES, "
                        "SOHOA_MAX_ZIP_RATIO): a possible zip bomb"
                    )
                out.write(chunk)
            out.flush()
            yield Path(out.name)
