"""Atomic file writes: a reader never sees a half-written cache, record or report."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path beside `path`; rename it onto `path` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; results are meant to be shared
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path: str | Path, write: Callable[[IO[Any]], None], mode: str = "w") -> None:
    with atomic_path(path) as tmp, open(tmp, mode) as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())


def check_writable(folder: str | Path, what: str = "results folder") -> None:
    """Fail before any work (not after an epoch of training) when `folder` cannot take files:
    it is created if missing, then a probe file is written and removed."""
    from fer_bench.core.errors import FerBenchError
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-probe.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise FerBenchError(f"{folder}: the {what} is not writable ({e.strerror or e})") from None


def write_json(path: str | Path, obj: Any) -> None:
    atomic_write(path, lambda f: json.dump(obj, f, indent=1, default=_jsonable))


def _jsonable(o: Any) -> Any:
    if hasattr(o, "tolist"):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def cache_dir() -> Path:
    """Where fer-bench keeps what it can recompute (decoded datasets, model costs): FER_BENCH_CACHE or
    ~/.cache/fer-bench."""
    return Path(os.environ.get("FER_BENCH_CACHE", Path.home() / ".cache" / "fer-bench"))


def file_safe(name: str) -> str:
    """`name` as one file name on any system (run ids, cell keys): every character but letters, digits and
    _ . = + - becomes '-', with no leading dot or dash (a plugin's model name may be a path)."""
    import re
    return re.sub(r"[^A-Za-z0-9_.=+-]", "-", name).lstrip(".-")
