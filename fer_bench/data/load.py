"""Files -> cached uint8 tensors. The first load decodes; later loads read one file."""

from __future__ import annotations

import hashlib
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from fer_bench.core.errors import FerBenchError
from fer_bench.core.io import atomic_path, cache_dir
from fer_bench.data.fer2013 import CLASSES, FERData, read_csv, resolve_source
from fer_bench.data.ferplus import ferplus_labels_from_votes, read_ferplus_votes, vote_distribution
from fer_bench.data.folders import read_folder
from fer_bench.data.pack import read_pack

CACHE_VERSION = 2   # 2: FER+ loads also hold the vote distributions


@dataclass(frozen=True)
class LoadOptions:
    """Everything that changes the decoded dataset (and so the cache key)."""

    fmt: str = "auto"            # auto | csv | folder
    labels: str = "fer2013"      # fer2013 | ferplus
    ferplus_path: str | None = None  # default: fer2013new.csv beside the CSV
    contempt: bool = True        # FER+: keep contempt as an 8th class, else drop those rows
    ferplus_mode: str = "majority"  # FER+: the reference protocol (majority) or plurality (ties dropped)
    drop_blank: bool = False     # remove uniform images (seed 001 did)
    blank_std: float = 2.0       # an image whose pixel std is below this is "blank"
    val_fraction: float = 0.1    # only for folders without a validation split
    split_seed: int = 0

    def __post_init__(self) -> None:
        for key, allowed in (("fmt", ("auto", "csv", "folder")), ("labels", ("fer2013", "ferplus")),
                             ("ferplus_mode", ("majority", "plurality"))):
            if getattr(self, key) not in allowed:
                raise FerBenchError(f"{key} = {getattr(self, key)!r} is not one of {', '.join(allowed)}")
        if not 0 <= self.val_fraction < 1:
            raise FerBenchError(f"val_fraction = {self.val_fraction!r} must be in [0, 1)")


def fingerprint(path: Path) -> str:
    """Content hash of a file; for a folder, a hash of every file's name, size and mtime
    (reading 35,887 JPEGs only to hash them would cost more than the cache saves)."""
    h = hashlib.sha256()
    if path.is_file():
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 22), b""):
                h.update(chunk)
    else:
        for p in sorted(path.rglob("*")):
            if p.is_file():
                st = p.stat()
                h.update(f"{p.relative_to(path)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def blank_mask(images: torch.Tensor, min_std: float = 2.0) -> torch.Tensor:
    """True for (near-)uniform images: all black, all white, or one flat grey."""
    return images.flatten(1).float().std(dim=1) < min_std


def load_dataset(path: str | Path, opts: LoadOptions | None = None,
                 use_cache: bool = True) -> FERData:
    """Load FER-2013 from a CSV or image folder, through the tensor cache."""
    opts = opts or LoadOptions()
    fmt, src = resolve_source(path, opts.fmt)
    sources = [src]
    if opts.labels == "ferplus":
        if fmt != "csv":
            raise FerBenchError(f"{src}: FER+ labels need the original fer2013.csv, not an image folder or a pack")
        fp = Path(opts.ferplus_path) if opts.ferplus_path else src.parent / "fer2013new.csv"
        if not fp.is_file():
            raise FerBenchError(f"{fp}: FER+ votes file not found (pass --ferplus PATH)")
        sources.append(fp)
    elif opts.labels != "fer2013":
        raise FerBenchError(f"unknown label source {opts.labels!r} (fer2013 or ferplus)")

    key = hashlib.sha256(repr((CACHE_VERSION, fmt, [fingerprint(s) for s in sources],
                               sorted(asdict(opts).items()))).encode()).hexdigest()[:20]
    cache_file = cache_dir() / f"{key}.pt"
    if use_cache and cache_file.is_file():
        try:
            d = torch.load(cache_file, weights_only=True)
            # The cache is keyed on the files' contents: the source is named as this caller named it
            # (a relative path stays relative), not as whoever filled the cache first did.
            return FERData(d["images"], d["labels"], d["splits"], d["ids"],
                           tuple(d["classes"]), {**d["info"], "source": str(src)}, d.get("votes"))
        except Exception:  # a damaged cache is rebuilt, never trusted
            cache_file.unlink(missing_ok=True)

    # The first load decodes 35,887 images (10-40 s on 2 cores): after 2 s of it, say what is happening.
    # A timer, not an unconditional line: a small file's bad-input error stays the only line printed.
    t0 = time.perf_counter()
    note = threading.Timer(2.0, lambda: print(
        f"fer-bench: reading {src} into the tensor cache ({cache_dir()}) once; later loads take under a second",
        file=sys.stderr, flush=True))
    note.daemon = True
    note.start()
    try:
        data = _read(fmt, src, sources, opts)
    finally:
        note.cancel()
    data.info["cache_key"] = key
    if use_cache:
        with atomic_path(cache_file) as tmp:
            torch.save({"images": data.images, "labels": data.labels, "splits": data.splits,
                        "ids": data.ids, "classes": list(data.classes), "info": data.info,
                        **({"votes": data.votes} if data.votes is not None else {})}, tmp)
    if note.finished.is_set() and time.perf_counter() - t0 >= 2.0:
        print(f"fer-bench: {len(data):,} images read in {time.perf_counter() - t0:.1f} s", file=sys.stderr,
              flush=True)
    return data


def _read(fmt: str, src: Path, sources: list[Path], opts: LoadOptions) -> FERData:
    """Decode the source and apply the label and cleaning options (everything the cache holds)."""
    if fmt == "csv":
        data = read_csv(src)
    elif fmt == "pack":
        data = read_pack(src)
    else:
        data = read_folder(src, opts.val_fraction, opts.split_seed)
    if opts.labels == "ferplus":
        votes = read_ferplus_votes(sources[1], data)
        labels, dropped = ferplus_labels_from_votes(votes, opts.contempt, opts.ferplus_mode)
        data.labels = labels
        how = {"majority": "FER+ reference majority (single votes removed, top > half of the rest)",
               "plurality": "FER+ plurality vote (ties dropped)"}[opts.ferplus_mode]
        data.info.update(labels=how, ferplus_mode=opts.ferplus_mode, ferplus_dropped=dropped,
                         ferplus_kept={s: int(((data.splits == i) & (labels >= 0)).sum())
                                       for i, s in enumerate(("train", "val", "test"))})
        if opts.contempt:
            data.classes = CLASSES + ("contempt",)
        data.votes = vote_distribution(votes, data.classes)
    else:
        data.info["labels"] = "FER-2013 emotion"
    data.info["unlabelled_dropped"] = int((data.labels < 0).sum())
    keep = data.labels >= 0
    blank = blank_mask(data.images, opts.blank_std)
    data.info["blank_images"] = int((blank & keep).sum())
    if opts.drop_blank:
        keep &= ~blank
        data.info["blank_dropped"] = int((blank & (data.labels >= 0)).sum())
    if not bool(keep.all()):
        data = data.subset(keep)
    return data
