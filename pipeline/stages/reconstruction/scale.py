"""The size of a photogrammetry model in metres: a photo set alone has no scale.

Two sources, in this order:

- the `scale` parameter, which a person can give: `A.jpg,B.jpg,3.20` says the cameras of photos
  A.jpg and B.jpg stood 3.20 m apart (two tripod positions measured with a tape, two marks on
  the ground the photographer stood on); a bare number is metres per model unit (runs recorded
  with it keep working);
- EXIF GPS, when at least `MIN_GPS_PHOTOS` registered photos carry a position: the camera
  centres are fitted to the GPS positions (in a local east-north-up frame, metres) by a
  similarity transform (Umeyama) and its scale is taken. GPS is good to a few metres, so the fit
  is used only when its expected scale error, residual ÷ (spread · √photos), is at most
  `MAX_GPS_SCALE_ERROR`: a walk round a building qualifies, a circle of photos round a statue
  does not, and the model then stays unscaled with the reason in its metrics.

`fit_scale` returns a `Scale`: metres per model unit (1.0 when unknown), the source and what
was measured, all of it recorded in the model's metrics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import InputRejectedError

MIN_GPS_PHOTOS = 3
MAX_GPS_SCALE_ERROR = 0.05
"""GPS scale is used when residual ÷ (spread · √photos) of the fit, the relative error its scale
can be expected to have, is at most this."""
EARTH_RADIUS_M = 6_378_137.0


@dataclass(frozen=True)
class Scale:
    metres_per_unit: float
    source: str
    """"distance" (two photos' cameras a known distance apart), "factor", "gps" or "none"."""
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        return self.source != "none"


@dataclass(frozen=True)
class ScaleRequest:
    """The `scale` parameter parsed: empty (GPS if present), a factor, or a distance."""

    factor: float | None = None
    photos: tuple[str, str] | None = None
    metres: float | None = None


def parse_scale(text: str) -> ScaleRequest:
    """`""`, `"0.01"` (metres per model unit) or `"A.jpg,B.jpg,3.20"` (metres between cameras)."""
    text = text.strip()
    if not text:
        return ScaleRequest()
    parts = [p.strip() for p in text.split(",")]
    try:
        if len(parts) == 1:
            factor = float(parts[0])
            if factor > 0 and math.isfinite(factor):
                return ScaleRequest(factor=factor)
        elif len(parts) == 3 and all(parts):
            metres = float(parts[2])
            if metres > 0 and math.isfinite(metres) and parts[0] != parts[1]:
                return ScaleRequest(photos=(parts[0], parts[1]), metres=metres)
    except ValueError:
        pass
    raise InputRejectedError(
        f"photogrammetry parameter scale: {text!r} is neither metres per model unit (0.01) nor "
        "two photos and the distance in metres between where they were taken (A.jpg,B.jpg,3.20)"
    )


def check_scale_photos(request: ScaleRequest, names: list[str]) -> None:
    """Before any heavy work: the photos a distance names must be in the set."""
    if request.photos is None:
        return
    missing = [n for n in request.photos if n not in names]
    if missing:
        raise InputRejectedError(
            f"scale names {', '.join(missing)}, which is not a photo of this set "
            f"(photos: {', '.join(names[:8])}{' …' if len(names) > 8 else ''})"
        )


def fit_scale(
    request: ScaleRequest, centres: dict[str, np.ndarray], gps: dict[str, tuple[float, ...]]
) -> Scale:
    """Metres per model unit from the request, else from GPS; `Scale(1, "none")` with the reason
    when neither gives one. `centres`: camera centres (model units) by original photo name."""
    if request.factor is not None:
        return Scale(request.factor, "factor")
    if request.photos is not None:
        return _from_distance(request, centres)
    return _from_gps(centres, gps)


def _from_distance(request: ScaleRequest, centres: dict[str, np.ndarray]) -> Scale:
    a, b = request.photos or ("", "")
    lost = [n for n in (a, b) if n not in centres]
    if lost:
        return Scale(1.0, "none", {"problem": f"{', '.join(lost)} did not register"})
    units = float(np.linalg.norm(centres[a] - centres[b]))
    if units < 1e-9:
        return Scale(1.0, "none", {"problem": f"{a} and {b} were taken from one position"})
    detail = {"photos": [a, b], "distance_m": request.metres, "model_units": round(units, 6)}
    return Scale(float(request.metres or 0) / units, "distance", detail)


def _from_gps(centres: dict[str, np.ndarray], gps: dict[str, tuple[float, ...]]) -> Scale:
    names = [n for n in centres if n in gps]
    if not gps:
        return Scale(1.0, "none", {"problem": "no scale given and no GPS in the photos"})
    if len(names) < MIN_GPS_PHOTOS:
        problem = f"{len(names)} registered photos carry GPS (need {MIN_GPS_PHOTOS})"
        return Scale(1.0, "none", {"problem": problem})
    src = np.array([centres[n] for n in names])
    dst = local_metres([gps[n] for n in names])
    scale, residual = similarity_scale(src, dst)
    spread = float(np.sqrt(((dst - dst.mean(axis=0)) ** 2).sum(axis=1).mean()))
    expected = residual / (spread * math.sqrt(len(names))) if spread > 0 else math.inf
    detail = {
        "photos": len(names),
        "gps_spread_m": round(spread, 3),
        "gps_residual_m": round(residual, 3),
        "expected_error": round(expected, 4) if math.isfinite(expected) else None,
    }
    if expected > MAX_GPS_SCALE_ERROR:
        detail["problem"] = (
            f"GPS positions spread {spread:.1f} m with a fit residual of {residual:.1f} m: "
            "too close together for GPS to give a scale"
        )
        return Scale(1.0, "none", detail)
    return Scale(scale, "gps", detail)


def local_metres(positions: list[tuple[float, ...]]) -> np.ndarray:
    """(lat°, lon°[, alt m]) → east, north, up metres about their mean (a local tangent plane;
    exact enough over the few hundred metres a photo set spans)."""
    lla = np.array([(p[0], p[1], p[2] if len(p) > 2 else 0.0) for p in positions], float)
    lat0 = math.radians(float(lla[:, 0].mean()))
    north = np.radians(lla[:, 0] - lla[:, 0].mean()) * EARTH_RADIUS_M
    east = np.radians(lla[:, 1] - lla[:, 1].mean()) * EARTH_RADIUS_M * math.cos(lat0)
    return np.column_stack([east, north, lla[:, 2] - lla[:, 2].mean()])


def similarity_scale(src: np.ndarray, dst: np.ndarray) -> tuple[float, float]:
    """Scale of the least-squares similarity taking src onto dst (Umeyama), and the RMS
    residual of that fit in dst units."""
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - mu_s, dst - mu_d
    u, s, vt = np.linalg.svd(b.T @ a / len(src))
    d = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    variance = a.var(axis=0).sum()
    if variance <= 0:
        return 1.0, float("inf")
    scale = float(np.trace(np.diag(s) @ d) / variance)
    rot = u @ d @ vt
    fitted = scale * a @ rot.T
    return scale, float(np.sqrt(((fitted - b) ** 2).sum(axis=1).mean()))


def read_gps(path: Path) -> tuple[tuple[float, float, float] | tuple[float, float] | None, str]:
    """(lat, lon[, alt]) from a photo's EXIF, or None; and a problem ("" when none). A photo
    whose EXIF cannot be read is still a photo: only its metadata is lost."""
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings(record=True) as caught, Image.open(path) as im:
            warnings.simplefilter("always")
            info = im.getexif().get_ifd(0x8825)  # GPSInfo
            corrupt = [str(w.message) for w in caught if "EXIF" in str(w.message)]
            if corrupt:  # Pillow warns and reads on; what it read cannot be trusted
                return None, f"EXIF corrupt ({corrupt[0].strip()})"
            if not info:
                return None, ""
            lat = _degrees(info[2], info.get(1, "N"), "S")
            lon = _degrees(info[4], info.get(3, "E"), "W")
            if 6 in info:
                alt = float(info[6]) * (-1 if info.get(5) in (1, b"\x01") else 1)
                position: tuple[float, ...] = (lat, lon, alt)
            else:
                position = (lat, lon)
    except KeyError:
        return None, "EXIF GPS without a latitude or longitude"
    except Exception as e:  # Pillow raises many kinds on corrupt EXIF; the photo stays usable
        return None, f"EXIF unreadable ({type(e).__name__})"
    if not (-90 <= position[0] <= 90 and -180 <= position[1] <= 180) or not all(
        math.isfinite(v) for v in position
    ):
        return None, "EXIF GPS position out of range"
    return position, ""  # type: ignore[return-value]


def _degrees(dms: Any, ref: Any, negative: str) -> float:
    d, m, s = (float(x) for x in dms)
    value = d + m / 60 + s / 3600
    ref = ref.decode() if isinstance(ref, bytes) else str(ref)
    return -value if ref.strip().upper().startswith(negative) else value
