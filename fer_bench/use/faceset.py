"""Any labelled face-image set -> 48x48 uint8 crops with class names, for `fer-bench eval`.

Public FER sets come in a few shapes: class folders (CK+, SFEW, RAF-DB exports), a
`labels.csv` (file,emotion), a FER-2013-format CSV, or files whose name holds the class
(JAFFE: `KA.AN1.39.tiff`). Photos are detected and cropped exactly as `natural build` does;
sets that are already face crops (`faces=True`) are only converted to gray and resized.
Every photo is accounted for: what was kept, and why the rest was not.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from fer_bench.core.errors import FerBenchError
from fer_bench.data.faces import DEFAULT_DETECTOR, DETECTORS, face_detector
from fer_bench.data.fer2013 import (
    CLASS_ALIASES,
    CLASSES,
    IMAGE_EXTENSIONS,
    IMAGE_SIZE,
    SPLITS,
    USAGE_TO_SPLIT,
    read_csv,
)
from fer_bench.data.natural import crop_face, list_photos, load_natural, read_gray

# FER+ and CK+ have an eighth class: a model trained with it can be scored on it.
LABEL_ALIASES = {**CLASS_ALIASES, "contempt": "contempt", "contemptuous": "contempt"}


@dataclass
class FaceSet:
    """images: uint8 (N, 48, 48); labels: class names (N,); skipped: reason -> count."""

    name: str
    source: str
    images: torch.Tensor
    labels: list[str]
    ids: list[str]
    photos: int
    preprocessing: str
    skipped: Counter = field(default_factory=Counter)


def canonical_label(given: str) -> str | None:
    """A class name from any usual spelling, or from a unique prefix (JAFFE's AN, DI, FE, ...)."""
    key = given.strip().lower().replace("-", "_")
    if key in LABEL_ALIASES:
        return LABEL_ALIASES[key]
    if len(key) >= 2:
        hits = {v for k, v in LABEL_ALIASES.items() if k.startswith(key)}
        if len(hits) == 1:
            return hits.pop()
    return None


def _photos_by_name(root: Path, pattern: str) -> list[tuple[Path, str | None, str]]:
    try:
        rx = re.compile(pattern)
    except re.error as e:
        raise FerBenchError(f"--label-from-name {pattern!r}: not a regular expression ({e})") from None
    if rx.groups < 1:
        raise FerBenchError(f"--label-from-name {pattern!r}: needs one group that captures the class, "
                            r"e.g. '\.([A-Z]{2})\d'")
    out = []
    for f in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS):
        m = rx.search(f.name)
        given = (m.group("label") if "label" in rx.groupindex else m.group(1)) if m else ""
        out.append((f, canonical_label(given) if given else None, given or f"(no match in {f.name})"))
    if not out:
        raise FerBenchError(f"{root}: no image files found")
    return out


def _to_face(gray: np.ndarray, faces: bool, find_faces) -> tuple[np.ndarray | None, str]:
    """The 48x48 crop and '' , or None and why not."""
    import cv2
    if faces:
        interp = cv2.INTER_AREA if min(gray.shape) > IMAGE_SIZE else cv2.INTER_CUBIC
        return cv2.resize(gray, (IMAGE_SIZE, IMAGE_SIZE), interpolation=interp), ""
    boxes = find_faces(gray)
    if not boxes:
        return None, "no face found"
    return crop_face(gray, boxes[0]), ""


def read_face_set(path: str | Path, faces: bool = False, label_from_name: str | None = None,
                  split: str | None = None, detector: str = DEFAULT_DETECTOR) -> FaceSet:
    """Read one labelled set. A built natural set (manifest.csv) and a FER-2013 CSV are face
    crops already; `split` picks train/val/test rows of a FER-2013 CSV."""
    p = Path(path)
    if not p.exists():
        raise FerBenchError(f"{p}: no such face set (a folder of class folders, a labels.csv folder, "
                            "a FER-2013-format CSV, or a built natural set)")
    if p.is_file():
        if not p.name.endswith((".csv", ".csv.gz")):
            raise FerBenchError(f"{p}: a face set file must be a FER-2013-format CSV (emotion,pixels[,Usage])")
        data = read_csv(p, usage_optional=True)
        mask = data.labels >= 0
        if split is not None:
            if (data.splits < 0).all():
                raise FerBenchError(f"--split {split}: {p} has no Usage column, so no splits")
            mask &= data.splits == SPLITS.index(split)
            if not mask.any():
                usage = next(k for k, v in USAGE_TO_SPLIT.items() if v == SPLITS.index(split))
                raise FerBenchError(f"--split {split}: {p} has no {usage} rows")
        data = data.subset(mask)
        return FaceSet(p.name.split(".")[0] + (f"-{split}" if split else ""), str(p), data.images,
                       [data.classes[i] for i in data.labels.tolist()], data.ids, len(data),
                       "FER-2013 CSV: 48x48 faces as stored")
    if split is not None:
        raise FerBenchError(f"--split {split}: only a FER-2013-format CSV has splits; {p} is a folder")
    if (p / "manifest.csv").is_file() and label_from_name is None:
        images, labels, ids = load_natural(p)
        rows, detector = _manifest(p)
        skipped = Counter(r.get("reason") or "skipped" for r in rows if r.get("status") != "ok")
        return FaceSet(p.name, str(p), images, [CLASSES[i] for i in labels.tolist()], ids, max(len(rows), len(ids)),
                       f"built natural set: 48x48 crops as stored (faces found by {detector})", skipped)
    photos = _photos_by_name(p, label_from_name) if label_from_name else _list_labelled(p)
    find_faces = None if faces else face_detector(detector)
    images, labels, ids, skipped = [], [], [], Counter()
    for f, name, given in photos:
        if name is None:
            skipped[f"unknown class {given!r}"] += 1
            continue
        if f.suffix.lower() not in IMAGE_EXTENSIONS:
            skipped["not an image file"] += 1
            continue
        try:
            gray = read_gray(f)
        except FerBenchError:
            skipped["unreadable image" if f.is_file() else "file not found"] += 1
            continue
        crop, why = _to_face(gray, faces, find_faces)
        if crop is None:
            skipped[why] += 1
            continue
        images.append(crop)
        labels.append(name)
        ids.append(str(f.relative_to(p)))
    if not images:
        raise FerBenchError(f"{p}: none of {len(photos)} photos gave a labelled face "
                            f"({', '.join(f'{n} {k}' for k, n in skipped.most_common())})")
    how = "already face crops: gray + resize to 48x48" if faces else f"natural-build crops: {DETECTORS[detector]}"
    return FaceSet(p.name, str(p), torch.from_numpy(np.stack(images)), labels, ids, len(photos), how, skipped)


def _manifest(root: Path) -> tuple[list[dict], str]:
    """A natural build's manifest rows (every source photo) and the detector it names."""
    import csv
    with (root / "manifest.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    detector = next((r["detector"] for r in rows if r.get("status") == "ok" and r.get("detector")), None)
    return rows, detector or "an unrecorded detector"


def _list_labelled(root: Path) -> list[tuple[Path, str | None, str]]:
    """Class folders or labels.csv (as `natural build` reads them), with the wider label spellings."""
    return [(f, name or canonical_label(given), given) for f, name, given in list_photos(root)]
