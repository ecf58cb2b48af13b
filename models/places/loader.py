"""Building the gazetteer from the three source files of admin_units_vn."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from models.places.names import _key, _split_kind, _tidy
from models.places.units import Era, GazetteerDataError, Level, Link, Unit, _order

if TYPE_CHECKING:
    from models.places.gazetteer import Gazetteer

CONVERSION_FILE = "vn_2025-07_ward_conversion_new_to_old.csv"
PRE2025_FILE = "vn_pre2025_wards_Xa_2025-01-04.csv"
NEW_FILE = "vn_2025_nested_divisions.json"

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
        from models.places.gazetteer import Gazetteer

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
