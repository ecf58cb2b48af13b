"""A unit of either era, its eras and levels, and the gazetteer's data error."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from models.places.names import _split_kind

Era = Literal["pre2025", "2025"]
Level = Literal["province", "district", "commune"]
Link = Literal["whole", "partial"]

ERAS: tuple[Era, ...] = ("pre2025", "2025")
REFORM_DATE = date(2025, 7, 1)  # first day of the 2025 era; the pre2025 era ends the day before

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


def _order(unit: Unit) -> tuple:
    return (_ERA_ORDER[unit.era], _LEVEL_ORDER[unit.level], unit.province_code, unit.code)


def _check_era(era: str) -> None:
    if era not in ERAS:
        raise ValueError(f"era must be one of {ERAS}, not {era!r}")
