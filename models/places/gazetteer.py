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

import difflib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from models.places.loader import CONVERSION_FILE, NEW_FILE, PRE2025_FILE, _Loader
from models.places.names import _KIND_LEVELS, _accent_key, _key, _readings, _split_kind
from models.places.units import (
    ERAS,
    Era,
    GazetteerDataError,
    Level,
    Link,
    Unit,
    _check_era,
    _order,
)


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
