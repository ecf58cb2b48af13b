"""The questions the statistics projection answers: the city's public numbers and the
digitisation dashboard. Every answer reads `stats_count` rows (a few per day, unit or
collection), never the captures themselves."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from models.places.gazetteer import Gazetteer
from pipeline.bootstrap import Services
from pipeline.projections.follower import stats_tables
from pipeline.projections.stats import CONF_BUCKETS, HANOI_TIME, NAME
from pipeline.projections.tables import StatsTables

MONTHLY_AFTER_DAYS = 400
"""A longer range is drawn by month rather than by day."""
BACKLOG_AGES = ((1, "< 1 day"), (7, "1–7 days"), (30, "1–4 weeks"), (10**6, "> 4 weeks"))
PUBLIC_MEASURES = ("captures", "pages")
CERTIFICATE_MEASURES = ("cert_entered", "cert_reviewed", "cert_linked")
CSV_COLUMNS = ("table", "month", "unit", "unit_name", "kind", "rank", "measure", "count")


@dataclass(frozen=True)
class DateRange:
    since: date
    until: date

    @property
    def monthly(self) -> bool:
        return (self.until - self.since).days > MONTHLY_AFTER_DAYS

    @classmethod
    def parse(cls, since: str | None, until: str | None, today: date) -> DateRange:
        """`since`/`until` as ISO dates (default: the last 30 days); ValueError when wrong."""
        end = date.fromisoformat(until) if until else today
        start = date.fromisoformat(since) if since else end - timedelta(days=29)
        if start > end:
            raise ValueError(f"since ({start}) is after until ({end})")
        return cls(start, end)


@dataclass
class Targets:
    """Certificates to enter per ward (2025 unit code → count), and the lines refused."""

    by_unit: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def read_targets(text: str, gazetteer: Gazetteer | None) -> Targets:
    """A targets CSV (`unit_code,target`, header optional): a line whose code is not a unit of
    the gazetteer (2025 era) or whose target is not a whole number is reported with its line
    number; the others are applied."""
    targets = Targets()
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in row]
        if not any(cells) or (number == 1 and not cells[-1].isdigit()):
            continue  # blank line, or the header
        if len(cells) < 2:
            targets.problems.append(f"line {number}: expected unit_code,target")
            continue
        code, target = cells[0], cells[1]
        if not target.isdigit():
            targets.problems.append(f"line {number}: target {target!r} is not a whole number")
            continue
        key = _ward_key(code, gazetteer)
        if key is None:
            targets.problems.append(f"line {number}: unknown unit code {code!r}")
            continue
        targets.by_unit[key] = int(target)
    return targets


def _ward_key(code: str, gazetteer: Gazetteer | None) -> str | None:
    if not code.isdigit():
        return None
    code = code.zfill(5)
    if gazetteer is None:
        return f"2025:{code}"
    try:
        unit = gazetteer.by_code(code, "2025")
    except KeyError:
        return None
    return unit.key if unit.level == "commune" else None


# -- public numbers ------------------------------------------------------------------


def public_stats(services: Services) -> dict[str, Any]:
    """Counts by unit, kind and month, and published heritage sites by rank: no personal data
    (counts of at least one capture per unit, never a name, an owner or a file)."""
    tables = stats_tables(services)
    names = _namer(services)
    rows = tables.query(
        "SELECT period, unit, kind, measure, SUM(n) AS n FROM {p}stats_count"
        " WHERE grain = 'month' AND measure IN ('captures', 'pages')"
        " GROUP BY period, unit, kind, measure ORDER BY period, unit, kind",
    )
    by_month: dict[tuple, dict[str, Any]] = {}
    for r in rows:
        key = (r["period"], r["unit"], r["kind"])
        entry = by_month.setdefault(
            key,
            {"month": key[0], **names(key[1]), "kind": key[2], "captures": 0, "pages": 0},
        )
        entry[r["measure"]] = int(r["n"])
    relics = tables.query(
        "SELECT unit, detail, SUM(n) AS n FROM {p}stats_count WHERE grain = 'unit'"
        " AND measure = 'relics' GROUP BY unit, detail HAVING SUM(n) > 0 ORDER BY unit, detail"
    )
    return {
        "position": tables.position(NAME),
        "by_month": [e for e in by_month.values() if e["captures"] or e["pages"]],
        "published_sites_by_rank": [
            {**names(r["unit"]), "rank": r["detail"], "published": int(r["n"])} for r in relics
        ],
    }


def public_stats_csv(stats: dict[str, Any]) -> str:
    """The public numbers as one long CSV table (one count per line)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for e in stats["by_month"]:
        for measure in PUBLIC_MEASURES:
            row = ("by_month", e["month"], e["unit"], e["unit_name"], e["kind"], "", measure)
            writer.writerow((*row, e[measure]))
    for r in stats["published_sites_by_rank"]:
        row = ("published_sites", "", r["unit"], r["unit_name"], "site", r["rank"], "published")
        writer.writerow((*row, r["published"]))
    return out.getvalue()


# -- the dashboard -------------------------------------------------------------------


def dashboard(
    services: Services,
    span: DateRange,
    unit: str | None = None,
    targets: Targets | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """Everything `/staff/dashboard` draws, for a date range and optionally one unit."""
    tables = stats_tables(services)
    names = _namer(services)
    today = today or _today()
    where, params = _range(span, unit)
    return {
        "range": {"since": str(span.since), "until": str(span.until), "monthly": span.monthly},
        "unit": names(unit) if unit else None,
        "position": tables.position(NAME),
        "series": _series(tables, span, where, params),
        "by_collection": _by_collection(tables, span) if not unit else [],
        "by_unit": [
            {**names(r["unit"]), "captures": int(r["n"])}
            for r in _sum_by(tables, "unit", "captures", span, unit)
        ],
        "certificates": _certificates(tables, names, unit, targets or Targets()),
        "backlog": _backlog(tables, unit, today),
        "ocr_confidence": _details(tables, "ocr_conf", where, params, [b for _, b in CONF_BUCKETS]),
        "review": _review(tables, unit),
        "failures": _details(tables, "failures", where, params),
    }


def _range(span: DateRange, unit: str | None) -> tuple[str, list[Any]]:
    if unit:
        return "grain = 'dayunit' AND unit = ? AND period BETWEEN ? AND ?", [
            unit, str(span.since), str(span.until),
        ]  # fmt: skip
    return "grain = 'day' AND unit = '*' AND period BETWEEN ? AND ?", [
        str(span.since), str(span.until),
    ]  # fmt: skip


def _series(tables: StatsTables, span: DateRange, where: str, params: list) -> list[dict]:
    period = "substr(period, 1, 7)" if span.monthly else "period"
    rows = tables.query(
        f"SELECT {period} AS p, measure, SUM(n) AS n FROM {{p}}stats_count WHERE {where}"
        " AND measure IN ('captures', 'pages') GROUP BY p, measure ORDER BY p",
        params,
    )
    points: dict[str, dict[str, Any]] = {}
    for r in rows:
        points.setdefault(r["p"], {"period": r["p"], "captures": 0, "pages": 0})[r["measure"]] = (
            int(r["n"])
        )
    return list(points.values())


def _sum_by(
    tables: StatsTables, column: str, measure: str, span: DateRange, unit: str | None
) -> list[dict]:
    grain = "monthcol" if column == "collection" else "month"
    extra, params = ("AND unit = ?", [unit]) if unit else ("", [])
    if column == "collection":
        extra, params = "AND unit = '*'", []
    return tables.query(
        f"SELECT {column}, SUM(n) AS n FROM {{p}}stats_count WHERE grain = ? AND measure = ?"
        f" AND period BETWEEN ? AND ? {extra} GROUP BY {column} HAVING SUM(n) <> 0"
        " ORDER BY n DESC",
        [grain, measure, str(span.since)[:7], str(span.until)[:7], *params],
    )


def _by_collection(tables: StatsTables, span: DateRange) -> list[dict]:
    return [
        {"collection": r["collection"] or "(none)", "captures": int(r["n"])}
        for r in _sum_by(tables, "collection", "captures", span, None)
    ]


def _certificates(tables: StatsTables, names, unit: str | None, targets: Targets) -> list[dict]:
    """Certificates entered, reviewed and linked per unit (all time), beside its target."""
    extra, params = ("AND unit = ?", [unit]) if unit else ("", [])
    rows = tables.query(
        "SELECT unit, measure, SUM(n) AS n FROM {p}stats_count WHERE grain = 'unit'"
        f" AND measure IN ('cert_entered', 'cert_reviewed', 'cert_linked') {extra}"
        " GROUP BY unit, measure",
        params,
    )
    per: dict[str, dict[str, Any]] = {}
    shown = {u: t for u, t in targets.by_unit.items() if not unit or u == unit}
    for key in shown:
        per[key] = {"entered": 0, "reviewed": 0, "linked": 0}
    for r in rows:
        per.setdefault(r["unit"], {"entered": 0, "reviewed": 0, "linked": 0})[
            r["measure"].removeprefix("cert_")
        ] = int(r["n"])
    out = []
    for key, counts in per.items():
        target = shown.get(key)
        share = round(counts["entered"] / target, 3) if target else None
        out.append({**names(key), **counts, "target": target, "share_of_target": share})
    return sorted(out, key=lambda e: (e["share_of_target"] is None, e["share_of_target"] or 0))


def _backlog(tables: StatsTables, unit: str | None, today: date) -> list[dict]:
    grain, extra, params = (
        ("dayunit", "AND unit = ?", [unit]) if unit else ("day", "AND unit = '*'", [])
    )
    rows = tables.query(
        f"SELECT period, SUM(n) AS n FROM {{p}}stats_count WHERE grain = '{grain}'"
        f" AND measure = 'state' AND detail = 'pending' {extra} GROUP BY period"
        " HAVING SUM(n) > 0",
        params,
    )
    ages = {label: 0 for _, label in BACKLOG_AGES}
    for r in rows:
        age = (today - date.fromisoformat(r["period"])).days
        label = next(label for bound, label in BACKLOG_AGES if age < bound)
        ages[label] += int(r["n"])
    return [{"age": label, "captures": n} for label, n in ages.items()]


def _details(
    tables: StatsTables, measure: str, where: str, params: list, order: list[str] | None = None
) -> list[dict]:
    rows = tables.query(
        f"SELECT detail, SUM(n) AS n FROM {{p}}stats_count WHERE {where} AND measure = ?"
        " GROUP BY detail HAVING SUM(n) > 0 ORDER BY n DESC",
        [*params, measure],
    )
    found = {r["detail"]: int(r["n"]) for r in rows}
    keys = order if order is not None else list(found)
    return [{"label": k, "count": found.get(k, 0)} for k in keys]


def _review(tables: StatsTables, unit: str | None) -> dict[str, int]:
    """Work waiting for people: certificates read but not yet reviewed, and pages read with
    a mean confidence under 70 (all time)."""
    extra, params = ("AND unit = ?", [unit]) if unit else ("", [])
    rows = tables.query(
        "SELECT measure, detail, SUM(n) AS n FROM {p}stats_count WHERE grain = 'unit'"
        f" AND measure IN ('cert_entered', 'cert_reviewed', 'ocr_conf') {extra}"
        " GROUP BY measure, detail",
        params,
    )
    sums = {(r["measure"], r["detail"]): int(r["n"]) for r in rows}
    entered = sums.get(("cert_entered", ""), 0)
    reviewed = sums.get(("cert_reviewed", ""), 0)
    low = sum(sums.get(("ocr_conf", b), 0) for _, b in CONF_BUCKETS[:2])
    return {"certificates_to_review": max(0, entered - reviewed), "low_confidence_pages": low}


# -- unit names ----------------------------------------------------------------------


def _namer(services: Services):
    """unit key → {"unit", "unit_name", "other_era_names"} (new and old names), memoised per
    gazetteer."""
    gazetteer = services.gazetteer if services.settings.gazetteer_dir else None
    key = id(gazetteer)
    namer = _NAMERS.get(key)
    if namer is None or namer[0] is not gazetteer:
        namer = _NAMERS[key] = (gazetteer, lru_cache(maxsize=10_000)(_names_in(gazetteer)))
    return namer[1]


_NAMERS: dict[int, tuple[Any, Any]] = {}


def _names_in(gazetteer: Gazetteer | None):
    def names(key: str | None) -> dict[str, Any]:
        key = key or ""
        entry: dict[str, Any] = {"unit": key, "unit_name": "", "other_era_names": []}
        if not key or gazetteer is None or ":" not in key:
            entry["unit_name"] = key or "(unknown)"
            return entry
        era, code = key.split(":", 1)
        try:
            unit = gazetteer.by_code(code, era)  # type: ignore[arg-type]
        except (KeyError, ValueError):
            entry["unit_name"] = key
            return entry
        linked = gazetteer.successors(unit) if era == "pre2025" else gazetteer.predecessors(unit)
        entry["unit_name"] = unit.name
        entry["other_era_names"] = sorted({u.name for u, _ in linked})
        return entry

    return names


def _today() -> date:
    from datetime import datetime

    return datetime.now(HANOI_TIME).date()
