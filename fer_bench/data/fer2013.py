"""FER-2013 as a CSV (Kaggle's fer2013.csv / icml_face_data.csv), the FERData every reader returns, and
where the data is (folders.py reads the image layout, ferplus.py the FER+ votes).

Both readers return a `FERData`: every image of the dataset as one uint8 tensor
plus labels and split codes. Everything downstream (cache, DataModule, report)
works on that one in-memory form; FER-2013 is only 83 MB as uint8.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from fer_bench.core.errors import DataNotFoundError, FerBenchError

CLASSES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
SPLITS: tuple[str, ...] = ("train", "val", "test")
TRAIN, VAL, TEST = 0, 1, 2
USAGE_TO_SPLIT = {"Training": TRAIN, "PublicTest": VAL, "PrivateTest": TEST}
# Split folder names of the image layout (Kaggle's train/ test/, and the usual spellings of a val/ folder).
FOLDER_SPLITS = {"train": TRAIN, "training": TRAIN, "validation": VAL, "val": VAL, "valid": VAL, "test": TEST}
IMAGE_SIZE = 48
N_PIXELS = IMAGE_SIZE * IMAGE_SIZE
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")

# Common spellings of the seven emotions (folder names, label files, other datasets).
CLASS_ALIASES: dict[str, str] = {
    **{c: c for c in CLASSES},
    "anger": "angry", "mad": "angry",
    "disgusted": "disgust", "disgusting": "disgust",
    "fearful": "fear", "afraid": "fear", "scared": "fear",
    "happiness": "happy", "joy": "happy", "smile": "happy", "smiling": "happy",
    "sadness": "sad", "unhappy": "sad",
    "surprised": "surprise", "surprising": "surprise",
    "calm": "neutral", "none": "neutral", "neutrality": "neutral",
}

GET_FER2013 = (
    "FER-2013 is not at {path}. Get it from Kaggle (the 'fer2013' challenge CSV, or the "
    "image-folder copy 'msambare/fer2013') and point DATA= or FER_BENCH_DATA at the folder "
    "holding fer2013.csv[.gz] or train/ and test/."
)


@dataclass
class FERData:
    """All images of one dataset, in memory.

    images: uint8 (N, 48, 48); labels: int64 (N,), -1 = no label (dropped FER+ row);
    splits: int8 (N,) with TRAIN / VAL / TEST; ids: a row number ("row 123") or a
    file path relative to the dataset root, for error messages and reports.
    """

    images: torch.Tensor
    labels: torch.Tensor
    splits: torch.Tensor
    ids: list[str]
    classes: tuple[str, ...] = CLASSES
    info: dict = field(default_factory=dict)
    # FER+ labels only: float (N, len(classes)), each row the image's vote distribution over the classes
    # with single votes removed (the FER+ paper's "probability" / "cross-entropy" training targets).
    votes: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, mask: torch.Tensor) -> FERData:
        idx = torch.nonzero(mask, as_tuple=False).flatten()
        return FERData(
            self.images[idx], self.labels[idx], self.splits[idx],
            [self.ids[i] for i in idx.tolist()], self.classes, dict(self.info),
            None if self.votes is None else self.votes[idx],
        )

    def counts(self) -> dict[str, list[int]]:
        """Per split, the number of images of each class (FER-2013 order)."""
        out = {}
        for s, name in enumerate(SPLITS):
            lab = self.labels[(self.splits == s) & (self.labels >= 0)]
            out[name] = torch.bincount(lab, minlength=len(self.classes)).tolist()
        return out


def stratified_subset(labels: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    """Indices of a seeded subset of n items with (about) the class proportions of labels."""
    if n >= len(labels):
        return torch.arange(len(labels))
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(labels), generator=g)
    # Sorting a random permutation by class and taking every k-th keeps proportions.
    order = perm[torch.argsort(labels[perm], stable=True)]
    pick = torch.linspace(0, len(labels) - 1, n).round().long()
    return order[pick].sort().values


def canonical_class(name: str) -> str | None:
    return CLASS_ALIASES.get(name.strip().lower().replace("-", "_"))


# ---------------------------------------------------------------- CSV (original Kaggle file)

def _read_text(path: Path) -> str:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError, zlib.error) as e:
        raise FerBenchError(f"{path}: cannot read ({e}); is the file complete?") from None
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError as e:
        raise FerBenchError(f"{path}: not a text CSV (byte {e.start} is not ASCII)") from None


def read_csv(path: str | Path, usage_optional: bool = False) -> FERData:
    """Read the original `fer2013.csv` (or `.csv.gz`): columns emotion, pixels, Usage, in any order. Kaggle's
    `icml_face_data.csv` (the file torchvision.datasets.FER2013 reads) has the same rows with a header
    `emotion, Usage, pixels`: spaces after the commas are ignored. With `usage_optional` (a set to score,
    not to train on) a CSV without Usage reads with every split -1."""
    path = Path(path)
    text = _read_text(path)
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise FerBenchError(f"{path}: not a valid CSV ({str(e).strip()})") from None
    df.columns = [str(c).strip() for c in df.columns]
    need = ["emotion", "pixels"] + ([] if usage_optional and "Usage" not in df.columns else ["Usage"])
    if not set(need) <= set(df.columns):
        raise FerBenchError(
            f"{path}: expected columns {','.join(need)}; found {','.join(map(str, df.columns))}"
        )
    if len(df) == 0:
        raise FerBenchError(f"{path}: no rows")

    emotion = pd.to_numeric(df["emotion"].str.strip(), errors="coerce")
    bad = emotion.isna() | ~emotion.isin(range(len(CLASSES)))
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise FerBenchError(
            f"{path}: row {i} (line {i + 2}): unknown emotion code {df['emotion'][i]!r} "
            f"(expected 0-6: {', '.join(CLASSES)})"
        )
    usage = df["Usage"].str.strip().map(USAGE_TO_SPLIT) if "Usage" in need else pd.Series(-1, index=df.index)
    if usage.isna().any():
        i = int(np.argmax(usage.isna().to_numpy()))
        raise FerBenchError(
            f"{path}: row {i} (line {i + 2}): unknown Usage {df['Usage'][i]!r} "
            f"(expected {', '.join(USAGE_TO_SPLIT)})"
        )
    images = _parse_pixels(df["pixels"].tolist(), path)
    n = len(df)
    return FERData(
        images=torch.from_numpy(images),
        labels=torch.from_numpy(emotion.to_numpy(np.int64).copy()),
        splits=torch.from_numpy(usage.to_numpy(np.int8).copy()),
        ids=[f"row {i}" for i in range(n)],
        info={"format": "csv", "source": str(path), "split_method": "Usage column"},
    )


def _parse_pixels(rows: list[str], path: Path) -> np.ndarray:
    """Parse N strings of 2304 space-separated integers into uint8 (N, 48, 48).

    Checked with vectorised byte operations over the whole column (a Python loop
    over 82M tokens takes minutes), then parsed by numpy's C tokenizer.
    """
    n = len(rows)
    buf = np.frombuffer("\n".join(rows).encode("ascii"), dtype=np.uint8)
    row_start = np.concatenate([[0], np.flatnonzero(buf == ord("\n")) + 1])

    def row_of(pos: np.ndarray | int) -> np.ndarray:
        return np.searchsorted(row_start, pos, side="right") - 1

    digit = (buf >= ord("0")) & (buf <= ord("9"))
    bad = ~digit & (buf != ord(" ")) & (buf != ord("\n")) & (buf != ord("\t")) & (buf != ord("\r"))
    if bad.any():
        pos = int(np.argmax(bad))
        i = int(row_of(pos))
        raise FerBenchError(
            f"{path}: row {i} (line {i + 2}): pixels contain {chr(buf[pos])!r}; "
            "expected space-separated integers 0-255"
        )
    starts = digit & ~np.concatenate([[False], digit[:-1]])
    counts = np.bincount(row_of(np.flatnonzero(starts)), minlength=n)
    wrong = np.flatnonzero(counts != N_PIXELS)
    if len(wrong):
        i = int(wrong[0])
        raise FerBenchError(
            f"{path}: row {i} (line {i + 2}): {counts[i]} pixel values, expected {N_PIXELS} (48x48)"
        )
    ends = digit & ~np.concatenate([digit[1:], [False]])
    long = np.nonzero(np.nonzero(ends)[0] - np.nonzero(starts)[0] >= 3)[0]
    if len(long):
        i = int(long[0]) // N_PIXELS
        raise FerBenchError(f"{path}: row {i} (line {i + 2}): pixel value out of range 0-255")
    values = np.fromstring(buf.tobytes(), dtype=np.int32, sep=" ")  # C parser, ~1.5 s
    if values.max() > 255:
        t = int(np.argmax(values > 255))
        raise FerBenchError(
            f"{path}: row {t // N_PIXELS} (line {t // N_PIXELS + 2}): pixel value {values[t]} "
            "out of range 0-255"
        )
    return values.astype(np.uint8).reshape(n, IMAGE_SIZE, IMAGE_SIZE)


# ---------------------------------------------------------------- image folders (Kaggle copy)


# ---------------------------------------------------------------- FER+ votes


# ---------------------------------------------------------------- locating the data

def default_data_path() -> Path:
    """DATA / FER_BENCH_DATA, else data/fer2013, else ../shared/data/fer2013 beside the repo."""
    for var in ("FER_BENCH_DATA", "DATA"):
        if os.environ.get(var):
            return Path(os.environ[var])
    local = Path("data/fer2013")
    if local.exists():
        return local
    shared = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "fer2013"
    return shared if shared.exists() else local


def resolve_source(path: str | Path, fmt: str = "auto") -> tuple[str, Path]:
    """('csv', file) or ('folder', root) for a user-given dataset path.

    A folder holding both fer2013.csv[.gz] and images/ (like ../shared/data/fer2013)
    resolves to the CSV unless fmt='folder'.
    """
    p = Path(path)
    if not p.exists():
        raise DataNotFoundError(GET_FER2013.format(path=p))
    if p.is_file():
        if p.name.endswith((".csv", ".csv.gz")) and fmt in ("auto", "csv"):
            return "csv", p
        if p.name.endswith(".npz.xz") and fmt == "auto":
            return "pack", p   # fer_bench.data.pack: the compact copy that travels to the GPU box
        raise FerBenchError(f"{p}: expected fer2013.csv, fer2013.csv.gz, a data pack (.npz.xz) or an image folder")
    if fmt in ("auto", "csv"):
        for name in ("fer2013.csv", "fer2013.csv.gz", "icml_face_data.csv", "icml_face_data.csv.gz"):
            if (p / name).is_file():
                return "csv", p / name
    if fmt in ("auto", "folder"):
        if (p / "images").is_dir():
            p = p / "images"
        if any((p / d).is_dir() for d in FOLDER_SPLITS):
            return "folder", p
    raise DataNotFoundError(GET_FER2013.format(path=p))
