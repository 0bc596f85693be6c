"""Reading W&B's offline transaction log (run-<id>.wandb) in tests: what `wandb sync` would upload.

The file is a LevelDB-style log (32 KiB blocks of records with a 7-byte header: crc32c, length, type
full/first/middle/last) after a 7-byte ':W&B' file header; each record is a wandb_internal_pb2.Record.
wandb 0.31 no longer ships a Python reader for it.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

BLOCK = 32768


def records(path: Path) -> list:
    from wandb.proto import wandb_internal_pb2
    raw = Path(path).read_bytes()
    assert raw[:4] == b":W&B", f"{path}: not a W&B transaction log"
    out, buf, pos = [], b"", 7
    while pos + 7 <= len(raw):
        left = BLOCK - pos % BLOCK
        if left < 7:                      # block trailer: padding
            pos += left
            continue
        _, length, kind = struct.unpack("<IHB", raw[pos:pos + 7])
        if kind == 0 and length == 0:
            pos += left
            continue
        data = raw[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind == 1:
            out.append(data)
        elif kind == 2:
            buf = data
        elif kind == 3:
            buf += data
        elif kind == 4:
            out.append(buf + data)
            buf = b""
    parsed = []
    for data in out:
        r = wandb_internal_pb2.Record()
        r.ParseFromString(data)
        parsed.append(r)
    return parsed


def read_run(path: Path, finished: bool = True) -> dict:
    """{'run': (project, id), 'summary': {...}, 'history': [{...}], 'config': {...}, 'artifacts': [names]}.

    W&B's service may still hold the log's tail in a buffer after run.finish() returns (it closes the
    stream asynchronously; a CI run once read a finished run's log and found no run record), so wait for it first:
    teardown() returns once the service has closed every stream. finished=False reads the log of a
    killed process, which has no exit record."""
    import wandb
    wandb.teardown()
    out = {"summary": {}, "history": [], "config": {}, "artifacts": [], "run": None}

    def items(updates) -> dict:
        return {it.key or "/".join(it.nested_key): json.loads(it.value_json) for it in updates}

    for r in records(path):
        kind = r.WhichOneof("record_type")
        if kind == "run":
            out["run"] = (r.run.project, r.run.run_id)
        elif kind == "summary":
            out["summary"].update(items(r.summary.update))
        elif kind == "history":
            out["history"].append(items(r.history.item))
        elif kind == "config":
            out["config"].update(items(r.config.update))
        elif kind == "artifact":
            out["artifacts"].append(r.artifact.name)
        elif kind == "exit":
            out["exit_code"] = r.exit.exit_code
    assert not finished or "exit_code" in out, f"{path}: the W&B log has no exit record (the run did not finish)"
    return out
