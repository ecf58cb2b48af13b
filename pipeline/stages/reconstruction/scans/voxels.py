"""Bounded-memory voxel averaging of a point stream (clouds larger than the working budget).

Points arrive in chunks. Until the budget is reached they are kept as they are; past it, every
point is averaged into a voxel grid whose cell size doubles (cells merge eight into one, exactly,
because sums add up) whenever the grid holds more cells than the budget. Memory is therefore
bounded by the budget plus one chunk, whatever the size of the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

_BITS = 21
_BIAS = 1 << (_BITS - 1)
_MASK = (1 << _BITS) - 1


@dataclass
class Columns:
    """Points with their optional per-point attributes (colours 0–255 as floats while summing)."""

    points: np.ndarray
    colours: np.ndarray | None = None
    normals: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.points)

    def arrays(self) -> list[np.ndarray | None]:
        return [self.points, self.colours, self.normals]


def concat(parts: list[Columns]) -> Columns:
    """One `Columns` of several; an attribute survives only if every part has it."""
    if not parts:
        return Columns(np.empty((0, 3)))
    cols = [p.arrays() for p in parts]
    out = []
    for k in range(3):
        values = [c[k] for c in cols]
        out.append(None if any(v is None for v in values) else np.concatenate(values))
    return Columns(*out)


@dataclass
class VoxelStream:
    """Accumulates chunks; `result()` is at most `budget` points (voxel centroids past it)."""

    budget: int
    raw: list[Columns] = field(default_factory=list)
    raw_count: int = 0
    voxel: float = 0.0
    origin: np.ndarray | None = None
    keys: np.ndarray | None = None
    sums: list[np.ndarray | None] = field(default_factory=list)
    counts: np.ndarray | None = None
    seen: int = 0

    def add(self, chunk: Columns) -> None:
        if not len(chunk):
            return
        self.seen += len(chunk)
        if self.keys is None:
            self.raw.append(chunk)
            self.raw_count += len(chunk)
            if self.raw_count > self.budget:
                self._start_grid()
        else:
            self._merge(chunk)

    def result(self) -> tuple[Columns, float]:
        """The points and the voxel size used (0.0 when every point was kept)."""
        if self.keys is None:
            return concat(self.raw), 0.0
        assert self.counts is not None
        n = self.counts[:, None]
        pts, col, nor = (None if s is None else s / n for s in self.sums)
        if nor is not None:
            norms = np.linalg.norm(nor, axis=1, keepdims=True)
            nor = np.divide(nor, norms, out=np.zeros_like(nor), where=norms > 0)
        return Columns(pts, col, nor), self.voxel  # type: ignore[arg-type]

    def _start_grid(self) -> None:
        first = concat(self.raw)
        self.raw = []
        lo, hi = first.points.min(axis=0), first.points.max(axis=0)
        diag = float(np.linalg.norm(hi - lo)) or 1.0
        # A scanned surface of extent L holds about (L / voxel)² cells: aim at half the budget.
        self.voxel = diag / np.sqrt(self.budget / 2)
        self.origin = lo
        self.keys = np.empty(0, dtype=np.int64)
        self.counts = np.empty(0)
        self.sums = [None if a is None else np.empty((0, 3)) for a in first.arrays()]
        self._merge(first)

    def _cells(self, points: np.ndarray) -> np.ndarray:
        return np.floor((points - self.origin) / self.voxel).astype(np.int64)

    def _merge(self, chunk: Columns) -> None:
        cells = self._cells(chunk.points)
        while np.abs(cells).max() >= _BIAS:  # far outside the grid: coarsen until it fits
            self._coarsen()
            cells = self._cells(chunk.points)
        keys = np.concatenate([self.keys, _pack(cells)])
        arrays = chunk.arrays()
        sums = [
            None if s is None or a is None else np.concatenate([s, a])
            for s, a in zip(self.sums, arrays, strict=True)
        ]
        counts = np.concatenate([self.counts, np.ones(len(chunk))])
        self._reduce(keys, sums, counts)
        while len(self.keys) > self.budget:
            self._coarsen()

    def _coarsen(self) -> None:
        self.voxel *= 2
        cells = _unpack(self.keys) >> 1  # arithmetic shift: floor division by two
        self._reduce(_pack(cells), self.sums, self.counts)

    def _reduce(self, keys: np.ndarray, sums: list, counts: np.ndarray) -> None:
        unique, inverse = np.unique(keys, return_inverse=True)
        self.keys = unique
        self.counts = np.bincount(inverse, weights=counts, minlength=len(unique))
        self.sums = [None if s is None else _sum_rows(inverse, s, len(unique)) for s in sums]


def _sum_rows(inverse: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    return np.column_stack(
        [np.bincount(inverse, weights=values[:, k], minlength=n) for k in range(3)]
    )


def _pack(cells: np.ndarray) -> np.ndarray:
    c = cells + _BIAS
    return (c[:, 0] << (2 * _BITS)) | (c[:, 1] << _BITS) | c[:, 2]


def _unpack(keys: np.ndarray) -> np.ndarray:
    return np.column_stack([keys >> (2 * _BITS), (keys >> _BITS) & _MASK, keys & _MASK]) - _BIAS
