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


def claim_cell(lock: Path) -> str | None:
    """Claim a cell atomically (O_CREAT | O_EXCL): None when this process now owns it, otherwise who
    does. A lock is stale, and taken over with a line saying so, when its owner ran on this host and is gone,
    or when its heartbeat (the file's modification time, touched every epoch) is older than
    HEARTBEAT_LIMIT_SECONDS, whatever host it came from."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    me = {"pid": os.getpid(), "host": socket.gethostname(), "started": datetime.now(UTC).isoformat(timespec="seconds")}
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                owner = json.loads(lock.read_text())
                owner = owner if isinstance(owner, dict) else {}
            except (OSError, ValueError):
                owner = {}
            # No readable owner: a process killed between creating the lock and writing it (a few
            # microseconds apart), once the file is older than any live writer could leave it.
            orphan = not owner.get("pid") and _age(lock) > EMPTY_LOCK_SECONDS
            if orphan:
                print(f"fer-bench: {lock}: empty or unreadable lock older than {EMPTY_LOCK_SECONDS} s, taken over",
                      file=sys.stderr)
            silent = bool(owner.get("pid")) and _age(lock) > HEARTBEAT_LIMIT_SECONDS
            if silent:
                print(f"fer-bench: {lock}: pid {owner.get('pid')} on {owner.get('host', '?')} has not beaten for "
                      f"{_age(lock) / 3600:.1f} h (limit {HEARTBEAT_LIMIT_SECONDS / 3600:.0f} h): taken over",
                      file=sys.stderr)
            if orphan or silent or (owner.get("host") == me["host"] and isinstance(owner.get("pid"), int)
                                    and not _pid_alive(owner["pid"])):
                # Stale: rename it away first, so that of two processes taking it over only one succeeds.
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
