"""Cell claims: one lock file per cell in a results folder that several processes (machines, SLURM tasks)
may share, so that no cell is trained twice."""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

# A lock without a readable owner this old was left by a process killed between creating and writing it.
EMPTY_LOCK_SECONDS = 60
# A training cell touches its lock after every epoch (its heartbeat). The slowest epoch measured here (an
# efficientnet_b0_fer epoch in fp32 on 2 AVX2 cores with validation) is well under an hour; a lock silent for
# this long belongs to a dead process on any host (a SLURM task killed on another node) and is taken over.
HEARTBEAT_LIMIT_SECONDS = 3 * 3600


def heartbeat(lock: Path) -> None:
    """Mark the lock's owner alive (its modification time is the heartbeat)."""
    try:
        os.utime(lock)
    except OSError:
        pass


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def read_owner(lock: Path) -> dict:
    """The lock's owner as written ({} when the file is empty, garbage or gone)."""
    try:
        owner = json.loads(lock.read_text())
    except (OSError, ValueError):
        return {}
    return owner if isinstance(owner, dict) else {}


def stale_reason(lock: Path, owner: dict) -> str | None:
    """Why the lock no longer guards a live run (None when it does): its owner ran on this host and is gone,
    its heartbeat (the file's modification time, touched every epoch) is older than HEARTBEAT_LIMIT_SECONDS
    whatever host it came from, or it has no readable owner and is older than any live writer could leave it
    (a process killed between creating the lock and writing it, microseconds apart)."""
    pid, age = owner.get("pid"), _age(lock)
    if not pid:
        return f"empty or unreadable lock older than {EMPTY_LOCK_SECONDS} s" if age > EMPTY_LOCK_SECONDS else None
    if age > HEARTBEAT_LIMIT_SECONDS:
        return (f"pid {pid} on {owner.get('host', '?')} has not beaten for {age / 3600:.1f} h "
                f"(limit {HEARTBEAT_LIMIT_SECONDS / 3600:.0f} h)")
    if owner.get("host") == socket.gethostname() and isinstance(pid, int) and not _pid_alive(pid):
        return f"pid {pid} on this host is gone"
    return None


def claim_cell(lock: Path) -> str | None:
    """Claim a cell atomically (O_CREAT | O_EXCL): None when this process now owns it, otherwise who
    does. A stale lock (`stale_reason`) is taken over, with a line saying so when its owner may have been
    on another host or never wrote itself."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    me = {"pid": os.getpid(), "host": socket.gethostname(), "started": datetime.now(UTC).isoformat(timespec="seconds")}
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            owner = read_owner(lock)
            why = stale_reason(lock, owner)
            if why is not None:
                if not why.endswith("is gone"):
                    print(f"fer-bench: {lock}: {why}: taken over", file=sys.stderr)
                # Rename it away first, so that of two processes taking it over only one succeeds.
                try:
                    os.rename(lock, lock.with_suffix(f".stale-{os.getpid()}"))
                    lock.with_suffix(f".stale-{os.getpid()}").unlink()
                except FileNotFoundError:
                    pass
                continue
            return f"pid {owner.get('pid', '?')} on {owner.get('host', '?')} since {owner.get('started', '?')}"
        with os.fdopen(fd, "w") as f:
            json.dump(me, f)
        return None
    return "another process (it took over a stale lock first)"
