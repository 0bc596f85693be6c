"""FER-2013 loading: the first decode of all 35,887 images (empty cache) and the cached reload,
for the original CSV and the Kaggle image folders. Goals: <= 30 s and <= 1 s."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from _common import write_report

from fer_bench.data.fer2013 import default_data_path
from fer_bench.data.load import LoadOptions, load_dataset


def main(data: Path) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        os.environ["FER_BENCH_CACHE"] = cache
        for fmt in ("csv", "folder"):
            t = time.perf_counter()
            d = load_dataset(data, LoadOptions(fmt=fmt))
            first = time.perf_counter() - t
            t = time.perf_counter()
            load_dataset(data, LoadOptions(fmt=fmt))
            again = time.perf_counter() - t
            rows.append([fmt, f"{len(d):,}", f"{first:.2f}", "yes" if first <= 30 else "no", f"{again:.3f}",
                         "yes" if again <= 1 else "no"])
    write_report("loading", "Loading: first decode and cached reload",
                 f"Data: `{data}`; the cache is a fresh temporary folder. Seconds, one run each.",
                 ["format", "images", "first decode s", "<= 30 s", "cached reload s", "<= 1 s"], rows,
                 ["The folder reload includes hashing the name, size and mtime of all 35,887 files "
                  "(the cache key); the CSV reload hashes the 94 MB file's contents."])


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else default_data_path())
