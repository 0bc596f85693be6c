"""Shared by the perf scripts: timing, and a markdown report with hardware, versions, date."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import torch

from fer_bench.core.io import atomic_write
from fer_bench.core.runinfo import environment

OUT = Path(__file__).resolve().parents[2] / "results" / "perf"


def time_it(fn: Callable[[], object], warmup: int = 3, repeats: int = 10, min_seconds: float = 1.0) -> float:
    """Median seconds per call, after warm-up; repeats more when calls are very short."""
    for _ in range(warmup):
        fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < repeats or time.perf_counter() - start < min_seconds:
        t = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


def write_report(name: str, title: str, intro: str, header: list[str], rows: list[list[str]],
                 notes: list[str] = ()) -> Path:
    env = environment()
    hw = env["hardware"]
    lines = [
        f"# {title}", "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python benchmarks/perf/{name}.py` "
        f"(`make perf`) on {hw['cpu']}, {hw['cpu_cores']} cores, torch threads {hw['torch_threads']}"
        f"{', GPU ' + ', '.join(hw['cuda']) if hw['cuda'] else ''}; Python {env['python']}, "
        + ", ".join(f"{k} {v}" for k, v in env["packages"].items() if v) + ".", "",
        intro, "",
        "| " + " | ".join(header) + " |", "|" + "---|" * len(header),
        *("| " + " | ".join(r) + " |" for r in rows), "",
        *notes,
    ]
    path = OUT / f"{name}.md"
    atomic_write(path, lambda f: f.write("\n".join(lines) + "\n"))
    print("\n".join(lines), file=sys.stderr)
    return path


def profile_ops(fn: Callable[[], object], steps: int, warmup: int = 3, top: int = 10,
                per: str = "step") -> tuple[list[str], float, list]:
    """torch.profiler over `steps` calls of fn: a markdown table of the top ops by self CPU time,
    the milliseconds per call under the profiler, and the raw events (sorted, largest first)."""
    from torch.profiler import ProfilerActivity, profile
    for _ in range(warmup):
        fn()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            fn()
    events = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    total = sum(e.self_cpu_time_total for e in events)
    table = [f"| op | calls / {per} | ms / {per} | share |", "|---|---:|---:|---:|"]
    table += [f"| `{e.key}` | {e.count / steps:.0f} | {e.self_cpu_time_total / steps / 1000:.3f} | "
              f"{100 * e.self_cpu_time_total / total:.1f}% |" for e in events[:top]]
    return table, total / steps / 1000, events

