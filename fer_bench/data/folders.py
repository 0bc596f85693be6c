"""FER-2013 as image folders (Kaggle's msambare/fer2013 layout: train/<class>/*.png, test/<class>/*.png,
or split-prefixed file names): decoded, in parallel, into the same FERData the CSV reader returns."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from fer_bench.core.errors import FerBenchError
from fer_bench.data.fer2013 import (
    CLASSES,
    FOLDER_SPLITS,
    IMAGE_EXTENSIONS,
    IMAGE_SIZE,
    TEST,
    TRAIN,
    VAL,
    FERData,
    canonical_class,
)

_PREFIX_SPLITS = {"Training_": TRAIN, "PublicTest_": VAL, "PrivateTest_": TEST}


def decode_image(path: Path) -> np.ndarray:
    """Decode one 48x48 face image to uint8 grayscale, or raise a one-line error."""
    try:
        with Image.open(path) as im:
            # The header's size is checked before decoding: a 48x48 set never needs a large image,
            # and a decompression bomb must not be decoded at all.
            if im.size != (IMAGE_SIZE, IMAGE_SIZE):
                raise FerBenchError(
                    f"{path}: image is {im.size[0]}x{im.size[1]}, expected 48x48 "
                    "(build other photos with `fer-bench natural build`)"
                )
            im.load()
            return np.asarray(im.convert("L"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise FerBenchError(f"{path}: cannot decode image ({e})") from None


def list_class_folders(split_dir: Path) -> list[tuple[int, Path, list[Path]]]:
    """(class index, folder, sorted image files) per class folder; errors name the folder."""
    out = []
    for d in sorted(p for p in split_dir.iterdir() if p.is_dir()):
        name = canonical_class(d.name)
        if name is None:
            raise FerBenchError(
                f"{d}: unknown class folder {d.name!r} (expected one of {', '.join(CLASSES)})"
            )
        files = sorted(p for p in d.iterdir()
                       if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
        if not files:
            raise FerBenchError(f"{d}: class folder has no images")
        out.append((CLASSES.index(name), d, files))
    if not out:
        raise FerBenchError(f"{split_dir}: no class folders (expected {split_dir}/<class>/*.jpg)")
    return out


def read_folder(root: str | Path, val_fraction: float = 0.1, seed: int = 0) -> FERData:
    """Read the Kaggle image-folder copy: root/{train,test[,validation]}/<class>/<image>.

    The canonical split comes from the Training_/PublicTest_/PrivateTest_ file-name
    prefixes when every file has one; else train/ -> train, validation/ -> val,
    test/ -> test, and when there is no validation folder a seeded stratified
    `val_fraction` of train becomes val (the record says so).
    """
    root = Path(root)
    split_dirs = [(d, FOLDER_SPLITS[d.name.lower()]) for d in sorted(root.iterdir())
                  if d.is_dir() and d.name.lower() in FOLDER_SPLITS]
    if not split_dirs:
        raise FerBenchError(f"{root}: no train/ or test/ folder")
    files: list[Path] = []
    labels: list[int] = []
    folder_split: list[int] = []
    for d, s in split_dirs:
        for c, _, fs in list_class_folders(d):
            files += fs
            labels += [c] * len(fs)
            folder_split += [s] * len(fs)
    prefix_split = [next((v for k, v in _PREFIX_SPLITS.items() if f.name.startswith(k)), None)
                    for f in files]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        images = np.stack(list(pool.map(decode_image, files, chunksize=256)))
    labels_t = torch.tensor(labels, dtype=torch.int64)
    if all(p is not None for p in prefix_split):
        splits = torch.tensor(prefix_split, dtype=torch.int8)
        method = "file-name prefixes (Training_/PublicTest_/PrivateTest_)"
    else:
        splits = torch.tensor(folder_split, dtype=torch.int8)
        method = "folders"
        if not (splits == VAL).any():
            splits = stratified_val_split(labels_t, splits, val_fraction, seed)
            method = f"folders; val = seeded stratified {val_fraction:.0%} of train (seed {seed})"
    return FERData(
        images=torch.from_numpy(images),
        labels=labels_t,
        splits=splits,
        ids=[str(f.relative_to(root)) for f in files],
        info={"format": "folder", "source": str(root), "split_method": method},
    )


def stratified_val_split(labels: torch.Tensor, splits: torch.Tensor, fraction: float,
                         seed: int) -> torch.Tensor:
    """Move a seeded, per-class `fraction` of the train split to val."""
    g = torch.Generator().manual_seed(seed)
    out = splits.clone()
    for c in labels.unique().tolist():
        idx = torch.nonzero((labels == c) & (splits == TRAIN)).flatten()
        k = round(len(idx) * fraction)
        out[idx[torch.randperm(len(idx), generator=g)[:k]]] = VAL
    return out
