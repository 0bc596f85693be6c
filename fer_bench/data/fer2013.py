"""Readers for FER-2013 in its two public layouts, and for the FER+ votes.

Both readers return a `FERData`: every image of the dataset as one uint8 tensor
plus labels and split codes. Everything downstream (cache, DataModule, report)
works on that one in-memory form; FER-2013 is only 83 MB as uint8.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image, UnidentifiedImageError

from fer_bench.errors import DataNotFoundError, FerBenchError

CLASSES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
SPLITS: tuple[str, ...] = ("train", "val", "test")
TRAIN, VAL, TEST = 0, 1, 2
USAGE_TO_SPLIT = {"Training": TRAIN, "PublicTest": VAL, "PrivateTest": TEST}
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


def read_csv(path: str | Path) -> FERData:
    """Read the original `fer2013.csv` (or `.csv.gz`): columns emotion, pixels, Usage, in any order. Kaggle's
    `icml_face_data.csv` (the file torchvision.datasets.FER2013 reads) has the same rows with a header
    `emotion, Usage, pixels`: spaces after the commas are ignored."""
    path = Path(path)
    text = _read_text(path)
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise FerBenchError(f"{path}: not a valid CSV ({str(e).strip()})") from None
    df.columns = [str(c).strip() for c in df.columns]
    need = ["emotion", "pixels", "Usage"]
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
    usage = df["Usage"].str.strip().map(USAGE_TO_SPLIT)
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

_FOLDER_SPLITS = {"train": TRAIN, "training": TRAIN, "validation": VAL, "val": VAL,
                  "valid": VAL, "test": TEST}
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
    split_dirs = [(d, _FOLDER_SPLITS[d.name.lower()]) for d in sorted(root.iterdir())
                  if d.is_dir() and d.name.lower() in _FOLDER_SPLITS]
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


# ---------------------------------------------------------------- FER+ votes

FERPLUS_COLUMNS = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear",
                   "contempt", "unknown", "NF")
# FER+ emotion order -> FER-2013 class index; contempt becomes an 8th class.
_FERPLUS_TO_FER = {"neutral": 6, "happiness": 3, "surprise": 5, "sadness": 4, "anger": 0,
                   "disgust": 1, "fear": 2, "contempt": 7}


FERPLUS_MODES = ("majority", "plurality")


def ferplus_labels(path: str | Path, data: FERData, contempt: bool = True, mode: str = "majority"
                   ) -> tuple[torch.Tensor, dict[str, int]]:
    """FER+ labels for the rows of a CSV-read `data` (same row order).

    mode "majority" is the FER+ reference protocol (Barsoum et al. 2016, FERPlus `majority` mode): every
    category with a single vote is removed first (outlier removal), then an image keeps its top
    category only if it holds more than half of the remaining votes; images whose top category is
    'unknown' or 'NF' (not a face) are dropped. mode "plurality" (fer-bench before 2026-11-25) keeps the
    top category unless the top is tied.

    Returns labels (-1 = dropped) and the number of rows dropped per reason.
    """
    if mode not in FERPLUS_MODES:     # before reading the file: the option is what is wrong
        raise FerBenchError(f"unknown FER+ label mode {mode!r} (choose from {', '.join(FERPLUS_MODES)})")
    return ferplus_labels_from_votes(read_ferplus_votes(path, data), contempt, mode)


def read_ferplus_votes(path: str | Path, data: FERData) -> np.ndarray:
    """The votes of fer2013new.csv as int64 (N, 10) in FERPLUS_COLUMNS order, checked against `data`'s rows."""
    path = Path(path)
    try:
        df = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as e:
        raise FerBenchError(f"{path}: cannot read FER+ votes ({str(e).strip().splitlines()[0]})") from None
    missing = [c for c in ("Usage", *FERPLUS_COLUMNS) if c not in df.columns]
    if missing:
        raise FerBenchError(f"{path}: FER+ file lacks columns {', '.join(missing)}")
    if data.info.get("format") != "csv" or len(df) != len(data):
        raise FerBenchError(
            f"{path}: FER+ votes need the fer2013.csv rows they were made for "
            f"({len(df)} vote rows, {len(data)} images from {data.info.get('format')})"
        )
    split = df["Usage"].map(USAGE_TO_SPLIT).to_numpy()
    mismatch = np.nonzero(split != data.splits.numpy())[0]
    if len(mismatch):
        raise FerBenchError(f"{path}: row {mismatch[0]}: Usage differs from the CSV's")
    raw = df[list(FERPLUS_COLUMNS)].apply(pd.to_numeric, errors="coerce")
    bad = raw.isna() | (raw < 0) | (raw != raw.round())
    if bad.to_numpy().any():
        row, col = np.argwhere(bad.to_numpy())[0]
        value = df[FERPLUS_COLUMNS[col]].iloc[row]
        value = "" if pd.isna(value) else (value.item() if hasattr(value, "item") else value)
        raise FerBenchError(f"{path}: row {row + 2}, column {FERPLUS_COLUMNS[col]}: vote {value!r} is not a "
                            "non-negative whole number")
    return raw.to_numpy().astype(np.int64)


def ferplus_labels_from_votes(votes: np.ndarray, contempt: bool = True, mode: str = "majority"
                              ) -> tuple[torch.Tensor, dict[str, int]]:
    """ferplus_labels on votes already read (read_ferplus_votes)."""
    if mode not in FERPLUS_MODES:
        raise FerBenchError(f"unknown FER+ label mode {mode!r} (choose from {', '.join(FERPLUS_MODES)})")
    if mode == "majority":
        votes = np.where(votes <= 1, 0, votes)       # outlier removal: single votes do not count
    top = votes.max(axis=1)
    n_top = (votes == top[:, None]).sum(axis=1)
    arg = votes.argmax(axis=1)
    names = np.array(FERPLUS_COLUMNS)[arg]
    if mode == "majority":
        undecided = (top > 0) & (2 * top <= votes.sum(axis=1))     # the top holds at most half
        undecided_reason = "no_majority"
    else:
        undecided = (n_top > 1) & (top > 0)
        undecided_reason = "tie"
    decided = (top > 0) & ~undecided
    dropped = {
        undecided_reason: int(undecided.sum()),
        "unknown": int((decided & (names == "unknown")).sum()),
        "not_a_face": int((decided & (names == "NF")).sum()),
        "no_votes": int((top == 0).sum()),
        "contempt": 0,
    }
    labels = np.array([_FERPLUS_TO_FER.get(n, -1) for n in names], dtype=np.int64)
    labels[~decided] = -1
    if not contempt:
        dropped["contempt"] = int((labels == 7).sum())
        labels[labels == 7] = -1
    return torch.from_numpy(labels), dropped


def vote_distribution(votes: np.ndarray, classes: tuple[str, ...]) -> torch.Tensor:
    """Per image, its emotion votes with single votes removed (the FER+ reference's outlier removal),
    over `classes` (FER-2013 order, contempt last when kept) and normalised to sum 1; 'unknown' and
    not-a-face votes are not emotions and do not count. An image left with no emotion vote gets zeros
    (it has no FER+ label either and is dropped)."""
    kept = np.where(votes <= 1, 0, votes).astype(np.float64)
    out = np.zeros((len(votes), len(classes)))
    for j, name in enumerate(FERPLUS_COLUMNS):
        c = _FERPLUS_TO_FER.get(name)
        if c is not None and c < len(classes):
            out[:, c] = kept[:, j]
    total = out.sum(axis=1, keepdims=True)
    return torch.from_numpy(np.divide(out, total, out=np.zeros_like(out), where=total > 0)).float()


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
        raise FerBenchError(f"{p}: expected fer2013.csv, fer2013.csv.gz or an image folder")
    if fmt in ("auto", "csv"):
        for name in ("fer2013.csv", "fer2013.csv.gz", "icml_face_data.csv", "icml_face_data.csv.gz"):
            if (p / name).is_file():
                return "csv", p / name
    if fmt in ("auto", "folder"):
        if (p / "images").is_dir():
            p = p / "images"
        if any((p / d).is_dir() for d in _FOLDER_SPLITS):
            return "folder", p
    raise DataNotFoundError(GET_FER2013.format(path=p))
