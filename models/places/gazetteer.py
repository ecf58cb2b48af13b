"""Gazetteer of Vietnamese administrative units across the 1 July 2025 reorganisation.

Two eras: ``pre2025`` (province → district → commune, as of 30 June 2025) and ``2025``
(province → commune; districts abolished). Codes were reused in 2025 (new Phường Giảng Võ is
00025, old Phường Giảng Võ was 00031; new Phường Ba Đình took old Trúc Bạch's 00004), so a unit
is identified by ``(era, code)``, never by its code alone.

Built at run time from the three files of ``../shared/data/heritage/admin_units_vn`` (see
``Gazetteer.load``). Those files come from a GPL-3.0-or-later repository, which is not a licence
ARCHITECTURE.md lets us copy into this repository, so no compact copy is bundled.

Links (old → new) come from the official conversion table, one row per (new commune, old
commune) pair, tagged whole ("Nhập toàn bộ", "Giữ nguyên", "Đổi tên"…) or partial ("Nhập một
phần…"). District and province links are derived from them: an old district is linked to every
new commune that took over one of its communes, "whole" only if the district went entirely into
that one commune.
"""

from __future__ import annotations

import csv
import difflib
import json
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

try:  # the search package's Vietnamese folding, when it exists
    from models.language.text import fold as _shared_fold
except ImportError:  # pragma: no cover - depends on the checkout
    _shared_fold = None

Era = Literal["pre2025", "2025"]
Level = Literal["province", "district", "commune"]
Link = Literal["whole", "partial"]

ERAS: tuple[Era, ...] = ("pre2025", "2025")
REFORM_DATE = date(2025, 7, 1)  # first day of the 2025 era; the pre2025 era ends the day before

CONVERSION_FILE = "vn_2025-07_ward_conversion_new_to_old.csv"
PRE2025_FILE = "vn_pre2025_wards_Xa_2025-01-04.csv"
NEW_FILE = "vn_2025_nested_divisions.json"

_LEVEL_ORDER = {"commune": 0, "district": 1, "province": 2}
_ERA_ORDER = {"pre2025": 0, "2025": 1}


@dataclass(frozen=True)
class Unit:
    """One administrative unit in one era; ``(era, code)`` identifies it."""

    code: str  # 2 digits (province), 3 (district) or 5 (commune)
    era: Era
    name: str = field(compare=False)  # with its type prefix: "Phường Giảng Võ"
    level: Level = field(compare=False)
    kind: str = field(compare=False)  # "Phường", "Xã", "Thị trấn", "Đặc khu", "Quận", "Tỉnh"…
    province_code: str = field(compare=False)
    district_code: str | None = field(default=None, compare=False)  # pre2025 communes only
    district_name: str | None = field(default=None, compare=False)
    aliases: tuple[str, ...] = field(default=(), compare=False, repr=False)  # other spellings

    @property
    def key(self) -> str:
        """A stable identifier for search documents: "2025:00025", "pre2025:00031"."""
        return f"{self.era}:{self.code}"

    @property
    def bare_name(self) -> str:
        """The name without its type prefix: "Giảng Võ"."""
        return _split_kind(self.name)[1]

    @property
    def valid_from(self) -> date | None:
        return REFORM_DATE if self.era == "2025" else None

    @property
    def valid_until(self) -> date | None:
        """First day the unit no longer exists (exclusive end), None if current."""
        return REFORM_DATE if self.era == "pre2025" else None


class GazetteerDataError(Exception):
    """The source folder is missing a file or holds a file of an unexpected shape."""


# --- text keys ---------------------------------------------------------------------------------

_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")  # huyền, sắc, ngã, hỏi, nặng
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'"})
_NON_WORD = re.compile(r"[^\w]+")


@lru_cache(maxsize=1 << 16)
def _local_fold(text: str) -> str:
    """NFC, lower case, every diacritic removed including đ → d (NFD does not split đ)."""
    text = unicodedata.normalize("NFC", text).lower().replace("đ", "d")
    stripped = "".join(
        c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)
    )
    return unicodedata.normalize("NFC", stripped)


_fold = _shared_fold or _local_fold


@lru_cache(maxsize=1 << 16)
def _key(text: str) -> str:
    """Folded lookup key: no diacritics, lower case, punctuation as single spaces."""
    return " ".join(_NON_WORD.sub(" ", _fold(text.translate(_APOSTROPHES)).lower()).split())


@lru_cache(maxsize=1 << 16)
def _accent_key(text: str) -> str:
    """Accented lookup key; tone-mark placement is ignored (hoà = hòa, thuỷ = thủy)."""
    text = _NON_WORD.sub(" ", unicodedata.normalize("NFC", text.translate(_APOSTROPHES)).lower())
    words = []
    for word in unicodedata.normalize("NFD", text).split():
        tones = "".join(c for c in word if c in _TONE_MARKS)
        words.append("".join(c for c in word if c not in _TONE_MARKS) + tones)
    return " ".join(words)


# Type prefixes by folded token sequence; longest first so "thi xa" wins over "xa".
_KINDS: dict[tuple[str, ...], str] = {
    ("thanh", "pho"): "Thành phố",
    ("thi", "tran"): "Thị trấn",
    ("thi", "xa"): "Thị xã",
    ("dac", "khu"): "Đặc khu",
    ("phuong",): "Phường",
    ("huyen",): "Huyện",
    ("quan",): "Quận",
    ("tinh",): "Tỉnh",
    ("xa",): "Xã",
}
_ABBREVIATIONS: dict[str, str] = {
    "tp": "Thành phố",
    "tt": "Thị trấn",
    "tx": "Thị xã",
    "p": "Phường",
    "q": "Quận",
    "h": "Huyện",
    "x": "Xã",
    "t": "Tỉnh",
}
_KIND_LEVELS: dict[str, tuple[Level, ...]] = {
    "Thành phố": ("province", "district"),
    "Tỉnh": ("province",),
    "Quận": ("district",),
    "Huyện": ("district",),
    "Thị xã": ("district",),
    "Phường": ("commune",),
    "Xã": ("commune",),
    "Thị trấn": ("commune",),
    "Đặc khu": ("commune",),
}
_ENGLISH_LEVELS: dict[str, tuple[Level, ...]] = {
    "province": ("province",),
    "city": ("province", "district"),
    "district": ("district",),
    "ward": ("commune",),
    "commune": ("commune",),
    "town": ("commune", "district"),
}


@lru_cache(maxsize=1 << 16)
def _split_kind(name: str) -> tuple[str | None, str]:
    """("Phường", "Giảng Võ") from "Phường Giảng Võ"; (None, name) when there is no prefix."""
    words = name.split()
    folded = [_key(w) for w in words[:2]]
    for prefix, kind in _KINDS.items():
        n = len(prefix)
        if len(words) > n and tuple(folded[:n]) == prefix:
            return kind, " ".join(words[n:])
    return None, name


def _tidy(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class _Reading:
    """One way to read a query: the name part, and the type it named, if any."""

    key: str
    accent_key: str
    kinds: frozenset[str] = frozenset()
    levels: frozenset[str] = frozenset()


def _readings(query: str) -> list[_Reading]:
    """The query as typed, and, if it starts with a type prefix, the name after it."""
    text = _tidy(unicodedata.normalize("NFC", query.translate(_APOSTROPHES)).replace(".", ". "))
    words = text.split()
    levels: frozenset[str] = frozenset()
    if len(words) > 1 and _key(words[-1]) in _ENGLISH_LEVELS:
        levels = frozenset(_ENGLISH_LEVELS[_key(words[-1])])
        words = words[:-1]
    readings = [_Reading(_key(" ".join(words)), _accent_key(" ".join(words)), levels=levels)]
    folded = [_key(w) for w in words]
    kind, rest = None, words
    for prefix, candidate in _KINDS.items():
        n = len(prefix)
        if len(words) > n and tuple(folded[:n]) == prefix:
            kind, rest = candidate, words[n:]
            break
    else:
        if len(words) > 1 and folded[0] in _ABBREVIATIONS:
            kind, rest = _ABBREVIATIONS[folded[0]], words[1:]
    if kind is not None:
        name = " ".join(rest)
        readings.append(_Reading(_key(name), _accent_key(name), frozenset({kind}), levels))
    return [r for r in readings if r.key]


# --- the gazetteer -----------------------------------------------------------------------------


@dataclass
class Gazetteer:
    """Units of both eras, their old → new links, and name lookup."""

    units: dict[tuple[str, str], Unit]  # (era, code) -> unit
    links: list[tuple[Unit, Unit, Link]]  # (old, new, whole|partial), commune and province level
    district_links: list[tuple[Unit, Unit, Link]]  # (old district, new commune, whole|partial)
    problems: list[str] = field(default_factory=list)  # data problems found while loading

    def __post_init__(self) -> None:
        self._index: dict[str, list[tuple[Unit, str]]] = defaultdict(list)
        for unit in self.units.values():
            names = {unit.name, unit.bare_name, *unit.aliases}
            names |= {_split_kind(a)[1] for a in unit.aliases}
            for name in names:
                self._index[_key(name)].append((unit, _accent_key(name)))
        self._all_keys = sorted(self._index)
        self._compact: dict[str, list[tuple[Unit, str]]] = defaultdict(list)  # "hanoi"
        for key, entries in self._index.items():
            self._compact[key.replace(" ", "")].extend(entries)
        self._succ: dict[Unit, list[tuple[Unit, Link]]] = defaultdict(list)
        self._pred: dict[Unit, list[tuple[Unit, Link]]] = defaultdict(list)
        self._pred_districts: dict[Unit, list[tuple[Unit, Link]]] = defaultdict(list)
        for old, new, link in self.links:
            self._succ[old].append((new, link))
            self._pred[new].append((old, link))
        for district, new, link in self.district_links:
            self._succ[district].append((new, link))
            self._pred_districts[new].append((district, link))
        for table in (self._succ, self._pred, self._pred_districts):
            for entries in table.values():
                entries.sort(key=lambda e: _order(e[0]))

    # -- loading

    @classmethod
    def load(cls, folder: str | Path) -> Gazetteer:
        """Build the gazetteer from the admin_units_vn folder (the three source files)."""
        folder = Path(folder)
        missing = [
            name
            for name in (CONVERSION_FILE, PRE2025_FILE, NEW_FILE)
            if not (folder / name).is_file()
        ]
        if missing:
            raise GazetteerDataError(f"{folder} lacks {', '.join(missing)}")
        return _Loader(folder).build()

    # -- lookup

    def by_code(self, code: str | int, era: Era) -> Unit:
        """The unit with this code in this era; an int is read as a 5-digit commune code."""
        _check_era(era)
        text = f"{code:05d}" if isinstance(code, int) else code.strip()
        try:
            return self.units[(era, text)]
        except KeyError:
            raise KeyError(f"no {era} unit with code {text!r}") from None

    def all(self, era: Era | None = None, level: Level | None = None) -> list[Unit]:
        return sorted(
            (
                u
                for u in self.units.values()
                if (era is None or u.era == era) and (level is None or u.level == level)
            ),
            key=_order,
        )

    def find(
        self,
        name: str,
        province: str | Unit | None = None,
        district: str | Unit | None = None,
        era: Era | None = None,
    ) -> list[Unit]:
        """Units called ``name`` (type prefix optional, diacritics optional).

        Exact accented matches come first. ``province`` and ``district`` take a name, a code or
        a Unit; a district (an old-era notion) keeps old units inside it and 2025 units that
        took over part of it. Empty when nothing matches: see ``suggest``.
        """
        if era is not None:
            _check_era(era)
        keep = self._filter(province, district)
        best: dict[Unit, tuple[int, int]] = {}
        for reading in _readings(name):
            entries = self._index.get(reading.key) or self._compact.get(
                reading.key.replace(" ", ""), []
            )
            entries = [(u, a) for u, a in entries if (era is None or u.era == era) and keep(u)]
            if reading.levels:
                entries = [e for e in entries if e[0].level in reading.levels] or entries
            if reading.kinds:  # "Xã X" still finds Phường X, but "Quận X" never a ward
                levels = {level for k in reading.kinds for level in _KIND_LEVELS[k]}
                entries = [e for e in entries if e[0].kind in reading.kinds] or [
                    e for e in entries if e[0].level in levels
                ]
            for unit, accent in entries:
                rank = (0 if accent == reading.accent_key else 1, 0 if reading.kinds else 1)
                best[unit] = min(best.get(unit, rank), rank)
        return sorted(best, key=lambda u: (best[u], *_order(u)))

    def suggest(self, name: str, n: int = 5, province: str | Unit | None = None) -> list[str]:
        """Up to ``n`` known names closest to ``name``, closest first (difflib, folded)."""
        keep = self._filter(province, None)
        readings = _readings(name)
        reading = readings[-1]  # the name without its type prefix, when there was one
        pool = self._keys(province)
        close = difflib.get_close_matches(reading.key, pool, n=4 * n, cutoff=0.6)
        out: list[str] = []
        for key in close:
            units = [u for u, _ in self._index[key] if keep(u)]
            if reading.kinds:
                units.sort(key=lambda u: u.kind not in reading.kinds)
            for unit in units:
                if unit.name not in out:
                    out.append(unit.name)
            if len(out) >= n:
                break
        return out[:n]

    # -- links

    def successors(self, unit: Unit) -> list[tuple[Unit, Link]]:
        """Old → new: the 2025 units that took over (all or part of) an old unit."""
        return list(self._succ.get(unit, ()))

    def predecessors(self, unit: Unit, districts: bool = False) -> list[tuple[Unit, Link]]:
        """New → old: the old units of the same level that went (wholly or partly) into ``unit``.

        The link says how much of the *old* unit went in. ``districts=True`` adds the old
        districts that contributed communes.
        """
        out = list(self._pred.get(unit, ()))
        if districts:
            out += self._pred_districts.get(unit, [])
        return out

    def equivalents(self, unit: Unit, partial: bool = True) -> set[Unit]:
        """The units of the other era linked to ``unit`` (for query expansion).

        An old district gives the new communes that took over its communes; a new commune gives
        old communes only (not whole districts). ``partial=False`` keeps whole links only.
        """
        links = self.successors(unit) if unit.era == "pre2025" else self.predecessors(unit)
        return {u for u, link in links if partial or link == "whole"}

    def expand(
        self,
        name: str,
        province: str | Unit | None = None,
        district: str | Unit | None = None,
        era: Era | None = None,
        partial: bool = True,
    ) -> list[Unit]:
        """Units found by name, then every unit of the other era linked to them."""
        found = self.find(name, province=province, district=district, era=era)
        extra = {e for unit in found for e in self.equivalents(unit, partial=partial)}
        return found + sorted(extra - set(found), key=_order)

    def label(self, unit: Unit) -> str:
        """E.g. "Phường Giảng Võ, Quận Ba Đình, Thành phố Hà Nội (00031, pre2025)"."""
        parts = [unit.name]
        if unit.district_name:
            parts.append(unit.district_name)
        province = self.units.get((unit.era, unit.province_code))
        if province is not None and province is not unit:
            parts.append(province.name)
        return f"{', '.join(parts)} ({unit.code}, {unit.era})"

    # -- helpers

    def _filter(self, province: str | Unit | None, district: str | Unit | None):
        provinces = self._resolve(province, "province", None) if province is not None else None
        districts = self._resolve(district, "district", provinces) if district is not None else None
        took_over: set[Unit] = set()
        for d in districts or ():
            took_over |= {u for u, _ in self._succ.get(d, ())}

        def keep(unit: Unit) -> bool:
            if provinces is not None and (unit.era, unit.province_code) not in provinces:
                return False
            if districts is None:
                return True
            if unit.era == "2025":
                return unit in took_over
            return unit in districts or unit.district_code in {d.code for d in districts}

        return keep

    def _resolve(self, value: str | Unit, level: Level, provinces: set | None):
        if isinstance(value, Unit):
            found = [value]
        elif value.strip().isdigit():
            code = value.strip().zfill(2 if level == "province" else 3)
            found = [u for e in ERAS if (u := self.units.get((e, code))) and u.level == level]
        else:
            found = [u for u in self.find(value) if u.level == level]
        if provinces is not None:
            found = [u for u in found if (u.era, u.province_code) in provinces]
        if level == "province":
            return {(u.era, u.code) for u in found}
        return found

    def _keys(self, province: str | Unit | None) -> list[str]:
        if province is None:
            return self._all_keys
        keep = self._filter(province, None)
        return sorted(k for k, entries in self._index.items() if any(keep(u) for u, _ in entries))


def _order(unit: Unit) -> tuple:
    return (_ERA_ORDER[unit.era], _LEVEL_ORDER[unit.level], unit.province_code, unit.code)


def _check_era(era: str) -> None:
    if era not in ERAS:
        raise ValueError(f"era must be one of {ERAS}, not {era!r}")


# --- building from the source files ------------------------------------------------------------

_CODE_IN_PARENS = re.compile(r"^(.*?)\s*\((\d+)\)\s*$")


def _name_and_code(cell: str) -> tuple[str, str]:
    match = _CODE_IN_PARENS.match(_tidy(cell))
    if not match:
        raise GazetteerDataError(f"expected 'Name (code)', got {cell!r}")
    return match[1], match[2]


def _canonical(name: str) -> tuple[str | None, str]:
    """(kind, name) with the prefix's case fixed: "Thị Xã Sơn Tây" -> "Thị xã Sơn Tây"."""
    kind, bare = _split_kind(_tidy(name))
    return kind, (f"{kind} {bare}" if kind else bare)


def _link_type(note: str) -> Link:
    """'partial' for "Nhập một phần…" (incl. "…diện tích, toàn bộ dân số"), else 'whole'."""
    return "partial" if "mot phan" in _key(note) else "whole"


@dataclass
class _Draft:
    level: Level
    province_code: str
    names: list[str]  # first is the primary name
    kind: str | None = None
    district_code: str | None = None


class _Loader:
    """Reads the three files once and assembles a Gazetteer; notes problems as it goes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.problems: list[str] = []
        self._checked: dict[tuple[str, str], str] = {}  # (old code, name) -> code to use
        self._named_by_table: set[str] = set()  # old codes whose primary name is the table's
        self._table_names: dict[str, set[str]] = defaultdict(set)  # old code -> names in table
        self._by_name: dict[tuple[str, str], list[str]] = defaultdict(list)  # listed communes
        self.old: dict[str, _Draft] = {}  # pre2025 code -> draft (provinces, districts, communes)
        self.new: dict[str, _Draft] = {}

    def build(self) -> Gazetteer:
        self._read_pre2025()
        self._read_2025()
        pairs = self._read_conversion()
        units = {("pre2025", c): self._unit("pre2025", c, d) for c, d in self.old.items()}
        units |= {("2025", c): self._unit("2025", c, d) for c, d in self.new.items()}
        links, district_links = self._links(units, pairs)
        return Gazetteer(units, links, district_links, self.problems)

    def _unit(self, era: Era, code: str, draft: _Draft) -> Unit:
        names: list[str] = []
        for name in draft.names:
            if all(_key(name) != _key(n) for n in names):
                names.append(name)
        kind, name = _canonical(names[0])
        district = self.old.get(draft.district_code or "") if era == "pre2025" else None
        return Unit(
            code=code,
            era=era,
            name=name,
            level=draft.level,
            kind=draft.kind or kind or "",
            province_code=draft.province_code,
            district_code=draft.district_code if district else None,
            district_name=_canonical(district.names[0])[1] if district else None,
            aliases=tuple(names[1:]),
        )

    def _read_pre2025(self) -> None:
        with open(self.folder / PRE2025_FILE, encoding="utf-8-sig", newline="") as f:
            for row in csv.DictReader(f):
                pcode, dcode, code = row["Mã TP"], row["Mã QH"], row["Mã PX"]
                if pcode not in self.old:
                    self.old[pcode] = _Draft("province", pcode, [_tidy(row["Tỉnh Thành Phố"])])
                if dcode not in self.old:
                    self.old[dcode] = _Draft("district", pcode, [_tidy(row["Quận Huyện"])])
                if code:  # island districts without communes have an empty commune code
                    name = _tidy(row["Phường Xã"])
                    self.old[code] = _Draft("commune", pcode, [name], district_code=dcode)
                    self._by_name[(dcode, _bare_key(name))].append(code)

    def _read_2025(self) -> None:
        provinces = json.loads((self.folder / NEW_FILE).read_text(encoding="utf-8"))
        for province in provinces:
            pcode = f"{province['code']:02d}"
            kind = "Tỉnh" if province["division_type"] == "tỉnh" else "Thành phố"
            self.new[pcode] = _Draft("province", pcode, [province["name"]], kind=kind)
            for ward in province["wards"]:
                code = f"{ward['code']:05d}"
                self.new[code] = _Draft("commune", pcode, [_tidy(ward["name"])])

    def _read_conversion(self) -> list[tuple[str, str, Link, str]]:
        """(old code, new code, link, level) pairs; fills in names the lists lack."""
        with open(self.folder / CONVERSION_FILE, encoding="utf-8-sig", newline="") as f:
            rows = [[_tidy(c) for c in row] for row in csv.reader(f)]
        if len(rows) < 3 or rows[1][:3] != ["Tỉnh, thành phố", "Tên Xã mới", "Mã Xã mới"]:
            raise GazetteerDataError(f"{CONVERSION_FILE}: unexpected header {rows[1:2]}")
        data = [(n, r) for n, r in enumerate(rows[2:], start=3) if r[2] or r[4]]  # no headers
        for _, row in data:
            self._table_names[row[4]].add(_bare_key(row[3]))
        pairs: list[tuple[str, str, Link, str]] = []
        for number, row in data:
            new_name, new_code, old_name, old_code, note = row[1:6]
            district_name, district_code = _name_and_code(row[6])
            new = self.new.get(new_code)
            if new is None:
                self.problems.append(f"row {number}: new code {new_code} not in {NEW_FILE}")
                continue
            if _key(new_name) != _key(new.names[0]):
                new.names.append(new_name)
            if not old_code:  # a whole island district became a special zone
                if district_code in self.old and "huyen" in _key(note):
                    pairs.append((district_code, new_code, "whole", "district"))
                else:
                    self.problems.append(f"row {number}: no old code for {old_name!r}; skipped")
                continue
            known = self.old.get(old_code)
            if known is not None and _split_kind(old_name)[0] is None:
                old_name = f"{_split_kind(known.names[0])[0]} {old_name}"  # "Xuân Phước"
            if (old_code, old_name) not in self._checked:
                self._checked[(old_code, old_name)] = self._check(number, row, old_name)
            old_code = self._checked[(old_code, old_name)]
            draft = self.old[old_code]
            if old_code not in self._named_by_table:  # the table (30 June) is later than the list
                self._named_by_table.add(old_code)
                draft.names.insert(0, old_name)
            elif old_name not in draft.names:
                draft.names.append(old_name)
            district = self.old.get(district_code)
            if district and _key(district_name) != _key(district.names[0]):
                district.names.insert(0, district_name)  # e.g. Huyện → Thị xã Mộc Châu
            pairs.append((old_code, new_code, _link_type(note), "commune"))
        return pairs

    def _check(self, number: int, row: list[str], name: str) -> str:
        """The old code to use for a table row; repairs a code typed for a neighbour's."""
        code, district = row[4], _name_and_code(row[6])[1]
        known = self.old.get(code)
        if known is None:
            province = self.old[district].province_code if district in self.old else None
            if province is None:
                province = _name_and_code(row[7])[1]
                self.problems.append(f"row {number}: district {district} not in the pre list")
            self.old[code] = _Draft("commune", province, [name], district_code=district)
            self.problems.append(
                f"row {number}: old unit {name} ({code}) is not in the 2025-01-04 list "
                "(created in the first half of 2025); added"
            )
            return code
        if _name_and_code(row[7])[1] != known.province_code:
            self.problems.append(
                f"row {number}: old province {row[7]!r} for {name} ({code}); the 2025-01-04 "
                f"list says {known.province_code}; used the list"
            )
        listed = _bare_key(known.names[0])
        if listed == _bare_key(name):
            return code
        # The table uses this code for two names, one of them the list's: a typo'd code.
        if listed in self._table_names[code]:
            same = self._by_name.get((district, _bare_key(name)), [])
            if len(same) == 1:
                self.problems.append(
                    f"row {number}: {name} given code {code}, which is {known.names[0]}'s in "
                    f"the table and the list; used {same[0]}, {name}'s code in the list"
                )
                return same[0]
        self.problems.append(
            f"row {number}: code {code} is {name!r} in the table but {known.names[0]!r} in the "
            "2025-01-04 list (renamed, merged or spelt differently); kept both names"
        )
        return code

    def _links(self, units: dict, pairs: list) -> tuple[list, list]:
        by_old: dict[Unit, dict[Unit, Link]] = defaultdict(dict)
        islands: list[tuple[Unit, Unit, Link]] = []
        for old_code, new_code, link, level in pairs:
            old, new = units[("pre2025", old_code)], units[("2025", new_code)]
            if level == "district":
                islands.append((old, new, link))
            elif by_old[old].get(new) != "partial":
                by_old[old][new] = link
        self._link_orphans(units, by_old)
        links = [
            (old, new, link) for old, targets in by_old.items() for new, link in targets.items()
        ]
        communes_of: dict[Unit, list[Unit]] = defaultdict(list)
        for unit in units.values():
            if unit.era == "pre2025" and unit.level == "commune":
                communes_of[units[("pre2025", unit.province_code)]].append(unit)
                if unit.district_code:
                    communes_of[units[("pre2025", unit.district_code)]].append(unit)
        district_links = list(islands)
        for parent, communes in communes_of.items():
            if parent.level == "province":
                up = {
                    c: {units[("2025", n.province_code)]: "whole" for n in by_old.get(c, {})}
                    for c in communes
                }
            else:
                up = {c: by_old.get(c, {}) for c in communes}
            for target in sorted({t for targets in up.values() for t in targets}, key=_order):
                # communes without links (see _link_orphans) tell nothing either way
                whole = all(t == {target: "whole"} for t in up.values() if t)
                entry = (parent, target, "whole" if whole else "partial")
                (links if parent.level == "province" else district_links).append(entry)
        return links, district_links

    def _link_orphans(self, units: dict, by_old: dict) -> None:
        """Give a listed unit absent from the table the links of its same-named successor."""
        named: dict[tuple[str | None, str], list[Unit]] = defaultdict(list)
        for unit in by_old:
            for name in {unit.name, *unit.aliases}:
                named[(unit.district_code, _bare_key(name))].append(unit)
        for unit in units.values():
            if unit.era != "pre2025" or unit.level != "commune" or unit in by_old:
                continue
            twins = named.get((unit.district_code, _bare_key(unit.name)), [])
            if len(twins) == 1:
                by_old[unit] = dict(by_old[twins[0]])
                self.problems.append(
                    f"old unit {unit.name} ({unit.code}) has no row in the conversion table; "
                    f"given the links of {twins[0].name} ({twins[0].code}), the unit of that "
                    "name in its district in the table"
                )
            else:
                self.problems.append(
                    f"old unit {unit.name} ({unit.code}) has no row in the conversion table "
                    "(merged away in the first half of 2025?); no successors"
                )


def _bare_key(name: str) -> str:
    return _key(_split_kind(name)[1])
