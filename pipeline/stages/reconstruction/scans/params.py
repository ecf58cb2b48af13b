"""Parameters of the scanner path, with defaults, and `--param k=v` parsing."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from pipeline.errors import InputRejectedError
from pipeline.stages.reconstruction.scans.clean import ORIENTATIONS
from pipeline.stages.reconstruction.scans.surface import METHODS

SENSORS = ("file", "origin", "unknown")
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


@dataclass(frozen=True)
class ScanParams:
    """Every knob of `reconstruct_scans`; the defaults suit a 0.1–2 m object or a LiDAR tile."""

    max_points_in_memory: int = 3_000_000
    """Clouds larger than this are voxel-averaged while they are read."""
    outlier_neighbours: int = 20
    outlier_std: float = 2.0
    voxel_m: float = 0.0
    """Voxel of the merged cloud; 0 means: whatever leaves about `target_points`."""
    target_points: int = 1_000_000
    surface_voxel_cells: float = 2.0
    """Poisson only: points are voxel-averaged to this many finest octree cells (at
    `poisson_depth`) before outliers, normals and the surface; closer points cost time and add
    no detail (0: keep every point). Depth 9 on a 0.2 m stele: 0.43 mm cells, 0.86 mm voxels."""
    normal_neighbours: int = 20
    orient: str = "auto"
    register_voxel_m: float = 0.0
    """Voxel of the registration features; 0 means: from the scans' point spacing."""
    sensor: str = "file"
    """Where each scan's scanner stood, for the free-space check of registration: "file" (where
    the file says: an E57 scan pose, a PCD VIEWPOINT; unknown otherwise), "origin" (a declared
    convention: every scan in its scanner's frame, scanner at the origin), "unknown" (never
    checked). A match is never rejected on a guess of where the scanner was."""
    min_fitness: float = 0.3
    ransac_iterations: int = 100_000
    ransac_tries: int = 3
    """Global matches per pair: one fast global registration, the rest RANSAC seeds (tried on
    the pairs whose fast match closes no loop)."""
    method: str = "poisson"
    poisson_depth: int = 9
    trim_quantile: float = 0.02
    trim_gap: float = 2.0
    """Poisson only: vertices farther than this many point spacings (of the cloud meshed) from
    every point are removed where they form more than a pinhole (`surface.UNSEEN_MIN_SIDE`):
    surface no scan saw (0: keep them). Chosen on the bunny (dev), 10 range scans: with
    the true poses the model→reference mean is 0.29 mm untrimmed, 0.07 mm at 2 (the rest is the
    reference within 1 mm: 90.4 → 89.1 %); with registered poses 0.39 → 0.19 mm at 2, 0.23 at 3."""
    max_faces: int = 500_000
    """The full-detail model is decimated to this many faces at most."""
    lods: tuple[int, ...] = (100_000, 20_000)
    remesh: bool = False
    """A single input that is already a mesh keeps its faces unless this is set."""
    preview_width: int = 640
    preview_height: int = 480
    seed: int = 0
    threads: int = 0
    """Open3D's CPU threads (0: every core). Open3D 0.20 runs on TBB, which ignores
    OMP_NUM_THREADS and OMP_THREAD_LIMIT: this is the only limit that applies to it."""

    def __post_init__(self) -> None:
        checks = [
            (self.max_points_in_memory >= 10_000, "max_points_in_memory must be ≥ 10000"),
            (self.outlier_neighbours >= 1, "outlier_neighbours must be ≥ 1"),
            (self.outlier_std > 0, "outlier_std must be > 0"),
            (self.voxel_m >= 0, "voxel_m must be ≥ 0"),
            (self.target_points >= 1000, "target_points must be ≥ 1000"),
            (
                self.surface_voxel_cells == 0 or 0.5 <= self.surface_voxel_cells <= 8,
                "surface_voxel_cells must be 0 or in 0.5..8",
            ),
            (3 <= self.normal_neighbours <= 200, "normal_neighbours must be in 3..200"),
            (self.orient in ORIENTATIONS, f"orient must be one of {', '.join(ORIENTATIONS)}"),
            (self.register_voxel_m >= 0, "register_voxel_m must be ≥ 0"),
            (self.sensor in SENSORS, f"sensor must be one of {', '.join(SENSORS)}"),
            (0 < self.min_fitness <= 1, "min_fitness must be in (0, 1]"),
            (self.ransac_iterations >= 1000, "ransac_iterations must be ≥ 1000"),
            (1 <= self.ransac_tries <= 10, "ransac_tries must be in 1..10"),
            (self.method in METHODS, f"method must be one of {', '.join(METHODS)}"),
            (5 <= self.poisson_depth <= 12, "poisson_depth must be in 5..12"),
            (0 <= self.trim_quantile < 1, "trim_quantile must be in [0, 1)"),
            (self.trim_gap == 0 or self.trim_gap >= 1, "trim_gap must be 0 or ≥ 1"),
            (self.max_faces >= 100, "max_faces must be ≥ 100"),
            (all(n >= 100 for n in self.lods), "every lod must be ≥ 100 faces"),
            (16 <= self.preview_width <= 4096, "preview_width must be in 16..4096"),
            (16 <= self.preview_height <= 4096, "preview_height must be in 16..4096"),
            (0 <= self.threads <= 256, "threads must be in 0..256"),
        ]
        for ok, message in checks:
            if not ok:
                raise InputRejectedError(f"bad parameter: {message}")

    @classmethod
    def from_overrides(cls, overrides: dict[str, str]) -> ScanParams:
        """Defaults with `--param k=v` strings applied; unknown keys and bad values rejected."""
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, text in overrides.items():
            if key not in known:
                raise InputRejectedError(
                    f"unknown parameter {key!r}; known: {', '.join(sorted(known))}"
                )
            values[key] = _parse(key, text, getattr(cls(), key))
        return replace(cls(), **values)

    def as_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def _parse(key: str, text: str, default: Any) -> Any:
    text = text.strip()
    try:
        if isinstance(default, bool):
            if text.lower() not in _TRUE | _FALSE:
                raise ValueError("expected true or false")
            return text.lower() in _TRUE
        if isinstance(default, int):
            return _int(text)
        if isinstance(default, float):
            return float(text)
        if isinstance(default, tuple):
            return tuple(_int(part) for part in text.split(",") if part.strip())
    except ValueError as e:
        raise InputRejectedError(f"bad value {text!r} for parameter {key!r}: {e}") from None
    return text


def _int(text: str) -> int:
    """An integer, allowing 100k, 2M and 1_000_000."""
    t = text.strip().lower().replace("_", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(t[-1:], 1)
    number = t[:-1] if factor > 1 else t
    value = float(number) * factor
    if value != int(value):
        raise ValueError("expected a whole number")
    return int(value)
