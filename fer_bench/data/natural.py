"""`fer-bench natural build`: ordinary photos -> a FER-2013-like natural-expression test set.

Find the faces (faces.py: BlazeFace by default, or OpenCV's Haar cascades; both work offline),
take the largest, crop a square with a margin, grayscale, CLAHE
contrast enhancement, resize to 48x48, write OUT/<class>/<name>.png and a manifest that
accounts for every photo. Deterministic: the same input gives byte-identical output.
"""

from __future__ import annotations

import csv
import io
import shutil
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from fer_bench.core.errors import FerBenchError
from fer_bench.data.faces import DEFAULT_DETECTOR, DETECTORS, face_detector
from fer_bench.data.fer2013 import CLASSES, IMAGE_EXTENSIONS, IMAGE_SIZE, canonical_class
from fer_bench.data.folders import decode_image, list_class_folders

CONTRAST = "CLAHE (clip 2.0, 8x8 tiles) on the 192x192 crop, then INTER_AREA resize to 48x48"
MANIFEST_COLUMNS = ["source", "class", "status", "reason", "output", "faces_found", "face_x", "face_y",
                    "face_w", "face_h", "detector"]


@dataclass(frozen=True)
class CropOptions:
    margin: float = 0.15      # added on each side, as a fraction of the face box
    work_size: int = 192      # CLAHE runs at this size before the final downsampling


MAX_PHOTO_PIXELS = 100_000_000  # a 100-megapixel photo; larger headers are refused unread


def read_gray(path: Path) -> np.ndarray:
    """Any photo (colour or gray, any size, EXIF-rotated) -> uint8 gray array."""
    from PIL import Image, ImageOps, UnidentifiedImageError
    try:
        with Image.open(path) as im:
            # Checked from the header, before anything is decoded (decompression bombs).
            if im.width * im.height > MAX_PHOTO_PIXELS:
                raise FerBenchError(f"{path}: image is {im.width}x{im.height} pixels, more than the "
                                    f"{MAX_PHOTO_PIXELS:,} allowed for a photo")
            im = ImageOps.exif_transpose(im)
            return np.asarray(im.convert("L"), dtype=np.uint8).copy()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise FerBenchError(f"{path}: unreadable ({e})") from None


def crop_face(gray: np.ndarray, box: tuple[int, int, int, int], opts: CropOptions = CropOptions()) -> np.ndarray:
    """Square crop around the box with a margin, CLAHE, then 48x48.

    The margin shrinks, and the square slides, to stay inside the photo: a photo that is
    already a tight face crop keeps its own borders instead of smeared edge pixels. Only a
    face box that itself leaves the photo is edge-padded.
    """
    import cv2
    x, y, w, h = box
    img_h, img_w = gray.shape
    side = max(w, h, min(img_h, img_w, int(round(max(w, h) * (1 + 2 * opts.margin)))))
    cx, cy = x + w / 2, y + h / 2
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    if side <= img_w:
        x0 = min(max(x0, 0), img_w - side)
    if side <= img_h:
        y0 = min(max(y0, 0), img_h - side)
    pad = max(0, -x0, -y0, x0 + side - gray.shape[1], y0 + side - gray.shape[0])
    padded = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE) if pad else gray
    crop = padded[y0 + pad:y0 + pad + side, x0 + pad:x0 + pad + side]
    interp = cv2.INTER_AREA if side > opts.work_size else cv2.INTER_CUBIC
    work = cv2.resize(crop, (opts.work_size, opts.work_size), interpolation=interp)
    work = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(work)
    return cv2.resize(work, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA)


def list_photos(src: Path) -> list[tuple[Path, str | None, str]]:
    """(photo, canonical class or None, the label as given), from SRC/<class>/* or SRC/labels.csv."""
    if not src.is_dir():
        raise FerBenchError(f"{src}: not a folder of photos (expected SRC/<class>/*.jpg or SRC/labels.csv)")
    labels_csv = src / "labels.csv"
    out = []
    if labels_csv.is_file():
        with labels_csv.open(newline="") as f:
            reader = csv.DictReader(f)
            if not {"file", "emotion"} <= set(reader.fieldnames or []):
                raise FerBenchError(f"{labels_csv}: expected columns file,emotion; found {reader.fieldnames}")
            root = src.resolve()
            for n, row in enumerate(reader, start=2):
                if row["file"] is None or row["emotion"] is None:
                    raise FerBenchError(f"{labels_csv}: row {n} has fewer than 2 fields (file,emotion)")
                given = row["emotion"].strip()
                code = given.isascii() and given.isdigit() and int(given) < len(CLASSES)   # not '²': a digit to str
                name = CLASSES[int(given)] if code else canonical_class(given)
                path = src / row["file"].strip()
                # A labels file names photos inside SRC: '../x.jpg' or '/etc/x' would read other files.
                if Path(row["file"].strip()).is_absolute() or not path.resolve().is_relative_to(root):
                    raise FerBenchError(f"{labels_csv}: row {n}: {row['file']!r} is outside {src}")
                out.append((path, name, given))
    else:
        for d in sorted(p for p in src.iterdir() if p.is_dir()):
            for f in sorted(p for p in d.iterdir() if p.is_file()):
                out.append((f, canonical_class(d.name), d.name))
    if not out:
        raise FerBenchError(f"{src}: no photos found (expected SRC/<class>/*.jpg or SRC/labels.csv)")
    return out


def check_out_folder(src: Path, out: Path) -> None:
    """OUT may be replaced only when it is safe to: never SRC, inside SRC or around SRC, and an
    existing non-empty OUT only when it holds a previous build (our manifest)."""
    s, o = src.resolve(), out.resolve()
    if o == s or o.is_relative_to(s) or s.is_relative_to(o):
        raise FerBenchError(f"{out}: the output folder must not be, contain or lie inside the photos folder {src}")
    if o.exists() and (not o.is_dir() or (any(o.iterdir()) and not is_natural_build(o))):
        raise FerBenchError(f"{out}: exists and is not a previous natural build (only a build's manifest.csv, "
                            "samples.png and <class>/*.png may be in it); choose a new or empty folder")


def is_natural_build(folder: Path) -> bool:
    """True only for a folder that holds exactly what a build writes: our manifest (its header), samples.png
    and class folders of PNG crops. A user's folder with a manifest.csv of its own is not one, and is kept."""
    try:
        with (folder / "manifest.csv").open(newline="") as f:
            header = next(csv.reader(f), [])
    except (OSError, UnicodeDecodeError):
        return False
    if header[:5] != MANIFEST_COLUMNS[:5]:   # older builds had fewer trailing columns
        return False
    for entry in folder.iterdir():
        if entry.name in ("manifest.csv", "samples.png") and entry.is_file():
            continue
        if not (entry.is_dir() and not entry.is_symlink() and entry.name in CLASSES + ("contempt",)
                and all(f.is_file() and f.suffix == ".png" for f in entry.iterdir())):
            return False
    return True


def build_natural(src: str | Path, out: str | Path, opts: CropOptions = CropOptions(),
                  detector: str = DEFAULT_DETECTOR) -> list[dict]:
    """Build the set; returns the manifest rows. OUT is replaced only when the build succeeds."""
    src, out = Path(src), Path(out)
    photos = list_photos(src)
    check_out_folder(src, out)
    find_faces = face_detector(detector)
    try:   # the build goes to a sibling of OUT first: its folder must take files before any photo is read
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    except OSError as e:
        why = "a file, not a folder" if out.parent.is_file() else e.strerror or e
        raise FerBenchError(f"{out}: cannot write the build beside it in {out.parent} ({why})") from None
    rows = []
    used: set[str] = set()
    try:
        # A bar only once the build has taken 2 s: a small set (or a bad-input error) stays quiet.
        for path, name, given in tqdm(photos, desc="natural build: photos", unit="photo", delay=2.0,
                                      mininterval=2.0, file=sys.stderr):
            row = {"source": str(path.relative_to(src)) if path.is_relative_to(src) else str(path),
                   "class": name or given, "status": "skipped", "reason": "", "output": "", "faces_found": "",
                   "face_x": "", "face_y": "", "face_w": "", "face_h": "", "detector": DETECTORS[detector]}
            rows.append(row)
            if name is None:
                row["reason"] = f"unknown class {given!r}"
                continue
            if path.suffix.lower() not in IMAGE_EXTENSIONS or not path.is_file():
                row["reason"] = "not an image file" if path.is_file() else "file not found"
                continue
            try:
                gray = read_gray(path)
            except FerBenchError as e:
                row["reason"] = str(e).split(": ", 1)[1]
                continue
            boxes = find_faces(gray)
            row["faces_found"] = len(boxes)
            if not boxes:
                row["reason"] = "no face found"
                continue
            x, y, w, h = boxes[0]
            row.update(face_x=x, face_y=y, face_w=w, face_h=h)
            stem = path.stem
            rel = f"{name}/{stem}.png"
            k = 1
            while rel in used:  # same stem in one class (photo.jpg and photo.png)
                k += 1
                rel = f"{name}/{stem}_{k}.png"
            used.add(rel)
            _write_png(tmp / rel, crop_face(gray, boxes[0], opts))
            row.update(status="ok", output=rel, reason="largest of several faces" if len(boxes) > 1 else "")
        _write_manifest(tmp / "manifest.csv", rows)
        _write_samples(tmp, [r["output"] for r in rows if r["status"] == "ok"])
        if out.exists():
            # The old build goes aside, the new one in, then the old one away: OUT is never missing or mixed.
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            out.rename(old / "build")
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return rows


def _write_png(path: Path, img: np.ndarray) -> None:
    from PIL import Image
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG", optimize=False)  # no timestamps: byte-stable
    path.write_bytes(buf.getvalue())


def _write_samples(root: Path, outputs: list[str], n: int = 96) -> None:
    """samples.png: up to n crops in manifest order, to look at before trusting the set."""
    from fer_bench.data.overview import sample_grid
    if outputs:
        step = max(1, len(outputs) // n)
        images = torch.from_numpy(np.stack([decode_image(root / o) for o in outputs[::step][:n]]))
        sample_grid(images, root / "samples.png", cols=16, rows=-(-len(images) // 16))


def _write_manifest(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def summary(rows: list[dict]) -> str:
    classes = [c for c in CLASSES if any(r["class"] == c for r in rows)]
    classes += sorted({r["class"] for r in rows} - set(classes))
    lines = [f"{'class':<12} {'photos':>6} {'crops':>6} {'skipped':>8}  reasons"]
    for c in classes:
        rs = [r for r in rows if r["class"] == c]
        ok = sum(r["status"] == "ok" for r in rs)
        reasons = Counter(r["reason"] for r in rs if r["status"] != "ok")
        lines.append(f"{c:<12} {len(rs):>6} {ok:>6} {len(rs) - ok:>8}  "
                     + ", ".join(f"{n} {k}" for k, n in sorted(reasons.items())))
    ok = sum(r["status"] == "ok" for r in rows)
    lines.append(f"{'all':<12} {len(rows):>6} {ok:>6} {len(rows) - ok:>8}  ({ok / len(rows):.1%} yield)")
    lines.append(f"detector: {rows[0]['detector']}; contrast: {CONTRAST}")
    return "\n".join(lines)


def load_natural(path: str | Path) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """A built natural set (OUT/<class>/*.png) -> uint8 images (N, 48, 48), labels, file ids."""
    root = Path(path)
    if not root.is_dir():
        raise FerBenchError(f"{root}: no natural set here (build one with `fer-bench natural build SRC {root}`)")
    images, labels, ids = [], [], []
    for c, _, files in list_class_folders(root):
        for f in files:
            images.append(decode_image(f))
            labels.append(c)
            ids.append(str(f.relative_to(root)))
    return torch.from_numpy(np.stack(images)), torch.tensor(labels), ids
