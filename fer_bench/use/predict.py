"""`fer-bench predict`: every face in photos, folders and videos, classified by a kept model.

Faces are found and cropped exactly as `natural build` does for the natural test set, so a
prediction sees what the model's natural-set numbers were measured on. A photo without a face
is reported, not an error; an unreadable file is one line and the others go on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from fer_bench.core.errors import FerBenchError
from fer_bench.data.faces import DEFAULT_DETECTOR, face_detector
from fer_bench.data.fer2013 import IMAGE_EXTENSIONS
from fer_bench.data.natural import crop_face, read_gray
from fer_bench.use.trained import TrainedModel, predict_probs

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")
# Okabe-Ito: distinguishable with every common colour-vision deficiency.
BOX_COLOURS = {"angry": "#D55E00", "disgust": "#009E73", "fear": "#CC79A7", "happy": "#E69F00",
               "sad": "#0072B2", "surprise": "#56B4E9", "neutral": "#F0E442", "contempt": "#999999"}


@dataclass
class Frame:
    """One photo, or one sampled frame of a video, and what was found in it."""

    source: str
    frame: int | None
    gray: np.ndarray
    faces: list[dict] = field(default_factory=list)


def list_inputs(inputs: list[str]) -> list[Path]:
    """Files given, and the photos and videos inside folders given (sorted, recursive)."""
    out = []
    for given in inputs:
        p = Path(given)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in
                           IMAGE_EXTENSIONS + VIDEO_EXTENSIONS)
            if not found:
                raise FerBenchError(f"{p}: no photos or videos in this folder")
            out += found
        elif p.is_file():
            out.append(p)
        else:
            raise FerBenchError(f"{p}: no such file or folder")
    return out


def read_frames(path: Path, every: int) -> Iterator[tuple[int | None, np.ndarray]]:
    """(None, gray) for a photo; (frame number, gray) for every `every`-th frame of a video."""
    if path.suffix.lower() not in VIDEO_EXTENSIONS:
        yield None, read_gray(path)
        return
    import cv2
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise FerBenchError(f"{path}: cannot open this video")
    try:
        n, read_any = 0, False
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            read_any = True
            if n % every == 0:
                yield n, cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
            n += 1
        if not read_any:
            raise FerBenchError(f"{path}: no frame could be decoded")
    finally:
        cap.release()


def classify_frame(tm: TrainedModel, frame: Frame, find_faces, top: int = 3) -> Frame:
    boxes = find_faces(frame.gray)
    if not boxes:
        return frame
    crops = torch.from_numpy(np.stack([crop_face(frame.gray, b) for b in boxes]))
    # A photo has a face or a few: batch-1 work, in the precision measured fastest for it (model card).
    probs = predict_probs(tm, crops, precision=tm.card.get("batch1_precision", "32-true"))
    for box, p in zip(boxes, probs):
        order = p.argsort(descending=True)[:top].tolist()
        frame.faces.append({"box": dict(zip(("x", "y", "w", "h"), box)), "class": tm.classes[order[0]],
                            "top": [{"class": tm.classes[i], "p": round(float(p[i]), 4)} for i in order]})
    return frame


def predict_files(tm: TrainedModel, paths: list[Path], every: int = 10,
                  detector: str = DEFAULT_DETECTOR) -> Iterator[Frame | FerBenchError]:
    """Frames with their faces, in order; an unreadable file yields its error and the rest go on."""
    find_faces = face_detector(detector)
    for path in paths:
        try:
            for n, gray in read_frames(path, every):
                yield classify_frame(tm, Frame(str(path), n, gray), find_faces)
        except FerBenchError as e:
            yield e


def frame_json(frame: Frame) -> dict:
    return {"source": frame.source, "frame": frame.frame, "faces": frame.faces,
            "note": "" if frame.faces else "no face found"}


def frame_text(frame: Frame) -> str:
    where = frame.source + (f" frame {frame.frame}" if frame.frame is not None else "")
    if not frame.faces:
        return f"{where}: no face found"
    lines = [f"{where}: {len(frame.faces)} face{'s' if len(frame.faces) > 1 else ''}"]
    for k, f in enumerate(frame.faces, 1):
        b = f["box"]
        top = "  ".join(f"{t['class']} {t['p']:.2f}" for t in f["top"])
        lines.append(f"  face {k} at x={b['x']} y={b['y']} w={b['w']} h={b['h']}: {f['class']:<8}  ({top})")
    return "\n".join(lines)


def annotation_targets(inputs: list[str], paths: list[Path], out_dir: Path, force: bool = False) -> dict[Path, Path]:
    """Each input file -> the annotation path (without the video frame suffix), decided before anything is
    written: its path inside the folder it was found in (or its name), extension kept in the name, so that
    a.jpg and a.png, or x/face.jpg and y/face.jpg, never share a file. Refused in one line: a target that is
    an input, two inputs with one target, or an existing file (unless force)."""
    folders = [Path(g).resolve() for g in inputs if Path(g).is_dir()]
    inputs_resolved = {p.resolve() for p in paths}
    out: dict[Path, Path] = {}
    taken: dict[Path, Path] = {}
    for p in paths:
        r = p.resolve()
        base = next((r.relative_to(f) for f in folders if r.is_relative_to(f)), Path(p.name))
        target = (out_dir / base.parent / f"{base.stem}_{base.suffix.lstrip('.').lower()}").resolve()
        if target in taken:
            raise FerBenchError(f"--annotate: {taken[target]} and {p} would both be annotated as "
                                f"{target.name}.png; annotate them in separate runs or folders")
        taken[target] = p
        png = target.with_name(target.name + ".png")
        if png in inputs_resolved:
            raise FerBenchError(f"--annotate: the annotation of {p} would overwrite the input {png}; "
                                "choose another --annotate folder")
        if png.exists() and not force:
            raise FerBenchError(f"--annotate: {png} exists; choose another folder or pass --force to replace "
                                "annotations")
        out[p] = target
    return out


def annotate(frame: Frame, target: Path, inputs: set[Path] | None = None) -> Path:
    """The photo (colour when it has colour) with a box and label per face, as PNG in out_dir."""
    from PIL import Image, ImageDraw, ImageFont, ImageOps

    from fer_bench.core.io import atomic_path
    src = Path(frame.source)
    if frame.frame is None:
        with Image.open(src) as im:
            img = ImageOps.exif_transpose(im).convert("RGB")
    else:
        img = Image.fromarray(frame.gray).convert("RGB")
    draw = ImageDraw.Draw(img)
    width = max(2, round(min(img.size) / 150))
    font = ImageFont.load_default(size=max(12, round(min(img.size) / 22)))
    for f in frame.faces:
        b, colour = f["box"], BOX_COLOURS.get(f["class"], "#FFFFFF")
        draw.rectangle((b["x"], b["y"], b["x"] + b["w"], b["y"] + b["h"]), outline=colour, width=width)
        label = f"{f['class']} {f['top'][0]['p']:.0%}"
        x0, y0, x1, y1 = draw.textbbox((b["x"], b["y"]), label, font=font)
        # Above the box; inside its top edge when a tightly framed face leaves no room above.
        ty = b["y"] - (y1 - y0) - 2 * width
        ty = ty if ty >= 0 else max(b["y"], 0)
        draw.rectangle((b["x"], ty, b["x"] + (x1 - x0) + 2 * width, ty + (y1 - y0) + 2 * width), fill=colour)
        draw.text((b["x"] + width, ty + width - (y0 - b["y"])), label, fill="black", font=font)
    out = target.with_name(target.name + (f"_frame{frame.frame:06d}" if frame.frame is not None else "") + ".png")
    if inputs and out.resolve() in inputs:   # a video frame's name can only be checked here
        raise FerBenchError(f"--annotate: {out} is an input; not overwritten")
    with atomic_path(out) as tmp:
        img.save(tmp, format="PNG")
    return out
