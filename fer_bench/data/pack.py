"""A compact, lossless copy of FER-2013 (or of a stratified part of its Training split) in one file.

It is what travels to a machine that cannot read the CSV: the GPU box gets only the working tree (at most
64 MiB), and the csv.gz alone is 90 MB. The file is an xz-compressed .npz of the decoded uint8 images with
their labels, splits and CSV row numbers, plus a `note` saying what part of the data it holds; `load_dataset`
reads it like the CSV, and that note travels into every run record's data info.
"""

from __future__ import annotations

import io
import lzma
from pathlib import Path

import numpy as np
import torch

from fer_bench.core.errors import FerBenchError
from fer_bench.core.io import atomic_path
from fer_bench.data.fer2013 import TRAIN, FERData, stratified_subset


def _encode(data: FERData, note: str) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, images=data.images.numpy(), labels=data.labels.numpy(), splits=data.splits.numpy(),
             ids=np.array(data.ids), classes=np.array(data.classes), note=np.array(note))
    # xz at its strongest preset: 30% smaller than zlib on these faces, and read once into the tensor cache.
    return lzma.compress(buf.getvalue(), preset=9 | lzma.PRESET_EXTREME)


def read_pack(path: str | Path) -> FERData:
    """The FERData a pack holds; a damaged or foreign file is one line naming it."""
    path = Path(path)
    try:
        with np.load(io.BytesIO(lzma.decompress(path.read_bytes())), allow_pickle=False) as z:
            arrays = {k: z[k] for k in ("images", "labels", "splits", "ids", "classes", "note")}
    except (lzma.LZMAError, OSError, ValueError, KeyError, EOFError) as e:
        raise FerBenchError(f"{path}: not a fer-bench data pack ({type(e).__name__}: {e})") from None
    images = arrays["images"]
    if images.dtype != np.uint8 or images.ndim != 3 or len({len(images), len(arrays["labels"]),
                                                            len(arrays["splits"]), len(arrays["ids"])}) != 1:
        raise FerBenchError(f"{path}: a data pack needs uint8 images (N, H, W) with N labels, splits and ids")
    return FERData(torch.from_numpy(images.copy()), torch.from_numpy(arrays["labels"].astype(np.int64)),
                   torch.from_numpy(arrays["splits"].astype(np.int8)), [str(i) for i in arrays["ids"]],
                   tuple(str(c) for c in arrays["classes"]),
                   {"format": "pack", "source": str(path), "split_method": "Usage column (packed)",
                    "pack": str(arrays["note"])})


def write_pack(data: FERData, out: str | Path, max_bytes: int, seed: int = 0) -> dict:
    """Every PublicTest and PrivateTest image and as much of Training as fits in `max_bytes` (a stratified,
    seeded subset, all of it when it fits). Returns what was written; refuses an existing file."""
    out = Path(out)
    if out.exists():
        raise FerBenchError(f"{out}: already exists; remove it first (a pack is never overwritten)")
    train = torch.nonzero(data.splits == TRAIN).flatten()
    rest = torch.nonzero(data.splits != TRAIN).flatten()
    # The first guess from the held-out splits' own compressed size per image; then shrink until it fits.
    probe = _encode(data.subset(data.splits != TRAIN), "")
    n_train, blob = min(len(train), int((max_bytes - len(probe)) / (len(probe) / max(len(rest), 1)) * 0.98)), b""
    if n_train < 1:
        raise FerBenchError(f"{out}: {max_bytes / 2**20:.1f} MiB cannot hold the validation and test splits "
                            f"({len(probe) / 2**20:.1f} MiB without Training)")
    for _ in range(8):
        keep = torch.cat([rest, train[stratified_subset(data.labels[train], n_train, seed)]]).sort().values
        mask = torch.zeros(len(data), dtype=torch.bool)
        mask[keep] = True
        part = data.subset(mask)
        note = (f"Training {n_train:,} of {len(train):,} images (stratified subset, seed {seed})"
                if n_train < len(train) else f"all {len(train):,} Training images")
        note += f"; every PublicTest and PrivateTest image; from {data.info.get('source')}"
        blob = _encode(part, note)
        if len(blob) <= max_bytes:
            break
        per_image = len(blob) / len(part)
        n_train = int(n_train - (len(blob) - max_bytes) / per_image * 1.05) - 1
        if n_train < 1:
            raise FerBenchError(f"{out}: {max_bytes / 2**20:.1f} MiB cannot hold the validation and test splits "
                                f"({len(blob) / 2**20:.1f} MiB with one Training image)")
    else:
        raise FerBenchError(f"{out}: could not fit the pack into {max_bytes / 2**20:.1f} MiB")
    with atomic_path(out) as tmp:
        tmp.write_bytes(blob)
    return {"path": str(out), "bytes": len(blob), "images": len(part), "train": n_train, "note": note}
