"""The inputs of `pipeline.stages.reconstruction.photogrammetry`: which members of a set are
readable, distinct photographs, staged into the working folder, and the camera mode they call for.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np

from pipeline.errors import InputRejectedError


def readable_photos(photos: list[Path], min_photos: int) -> tuple[list[Path], list[dict]]:
    """The photos that open as images, and {name, reason} for the members that do not."""
    if len(photos) < min_photos:
        raise InputRejectedError(
            f"a photo set needs at least {min_photos} overlapping photos; got {len(photos)}"
        )
    usable, skipped = [], []
    for path in photos:
        reason = _unreadable(path)
        if reason:
            skipped.append({"name": path.name, "reason": reason})
        else:
            usable.append(path)
    if len(usable) < min_photos:
        detail = "; ".join(f"{s['name']}: {s['reason']}" for s in skipped[:5])
        raise InputRejectedError(
            f"only {len(usable)} of {len(photos)} files are readable photos, "
            f"need at least {min_photos} ({detail})"
        )
    return _distinct_frames(usable, skipped, min_photos)


SAME_FRAME = 1.0
"""Mean absolute difference (0–255) of two 64×64 grey thumbnails under which two photos are one
frame (the same shot saved twice, a camera that did not move: JPEG and sensor noise average
out at that size to well under 1). Photos a few centimetres apart, as a dense walk takes them,
differ by 1.5 or more and are kept."""


def _distinct_frames(
    usable: list[Path], skipped: list[dict], min_photos: int
) -> tuple[list[Path], list[dict]]:
    """Keep the first of each run of identical frames; reject a set with too few distinct."""
    from PIL import Image

    kept: list[tuple[Path, np.ndarray]] = []
    for path in usable:
        with Image.open(path) as im:
            thumb = np.asarray(im.convert("L").resize((64, 64)), dtype=np.float32)
        same = next((k for k, t in kept if np.abs(t - thumb).mean() < SAME_FRAME), None)
        if same is None:
            kept.append((path, thumb))
        else:
            skipped.append({"name": path.name, "reason": f"the same frame as {same.name}"})
    if len(kept) < min_photos:
        raise InputRejectedError(
            f"the {len(usable)} photos hold only {len(kept)} distinct frame(s) "
            f"({', '.join(p.name for p, _ in kept)}; the others repeat them): photogrammetry "
            f"needs at least {min_photos} photos taken from different positions"
        )
    return [p for p, _ in kept], skipped


def _unreadable(path: Path) -> str | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.verify()
            w, h = im.size
    except Image.DecompressionBombError:
        return "too many pixels (the Pillow pixel limit)"
    except (OSError, UnidentifiedImageError, SyntaxError) as e:
        return f"not a readable image ({type(e).__name__})"
    if min(w, h) < 64:
        return f"too small ({w}×{h} px)"
    return None


def stage_images(photos: list[Path], folder: Path) -> list[str]:
    """Link (or copy) the photos into one folder under unique names kept in input order."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i, src in enumerate(photos):
        name = f"{i:04d}_" + re.sub(r"\s+", "_", src.name)  # pair lists split on spaces
        dst = folder / name
        dst.unlink(missing_ok=True)  # a reused work folder must not keep an earlier photo
        try:
            dst.symlink_to(src.resolve())
        except OSError:
            shutil.copyfile(src, dst)
        names.append(name)
    return names


def camera_mode(folder: Path, names: list[str]) -> str:
    """SINGLE when every photo has the same size, camera and focal length, else PER_IMAGE. A
    photo whose EXIF cannot be read counts as a camera of its own."""
    from PIL import Image

    keys: set[tuple] = set()
    for name in names:
        with Image.open(folder / name) as im:
            try:
                exif = im.getexif()
                sub = exif.get_ifd(0x8769)
                keys.add((im.size, exif.get(271), exif.get(272), sub.get(0xA405), sub.get(0x920A)))
            except Exception:  # corrupt EXIF: Pillow raises many kinds; the pixels are fine
                keys.add((im.size, name))
    return "SINGLE" if len(keys) == 1 else "PER_IMAGE"


def photo_positions(photos: list[Path]) -> tuple[dict[str, tuple[float, ...]], list[dict]]:
    """EXIF GPS positions by photo name, and {name, reason} for photos whose EXIF is broken
    (they are still used: only their metadata is lost)."""
    from pipeline.stages.reconstruction.scale import read_gps

    gps: dict[str, tuple[float, ...]] = {}
    problems = []
    for path in photos:
        position, problem = read_gps(path)
        if position is not None:
            gps[path.name] = position
        if problem:
            problems.append({"name": path.name, "reason": problem})
    return gps, problems
