"""torch.compile on the CPU: compile time and training-step speed against eager, both bf16-mixed +
channels_last, and the number of FER-2013 epochs after which compiling pays for itself."""

from __future__ import annotations

import sys
import time

from _common import time_it, write_report
from precision import BATCH, step_fn

EPOCH_IMAGES = 28_709


def make_step(name: str, compiled: bool):
    return step_fn(name, bf16=True, channels_last=True, compiled=compiled)


def main(models: list[str]) -> None:
    rows = []
    for name in models:
        eager = time_it(make_step(name, False), warmup=2, repeats=8, min_seconds=2.0)
        step = make_step(name, True)
        t = time.perf_counter()
        step()   # the first call compiles forward and backward
        compile_s = time.perf_counter() - t
        comp = time_it(step, warmup=2, repeats=8, min_seconds=2.0)
        saved = (eager - comp) * EPOCH_IMAGES / BATCH
        breakeven = f"{compile_s / saved:.1f}" if saved > 0 else "never"
        rows.append([name, f"{BATCH / eager:,.0f}", f"{BATCH / comp:,.0f}", f"{eager / comp:.2f}x",
                     f"{compile_s:.1f}", breakeven])
        print(rows[-1], file=sys.stderr, flush=True)
    write_report("compile", "torch.compile (inductor, CPU) vs eager, training step",
                 f"Training images per second at batch {BATCH}, bf16-mixed + channels_last both; compile time = the "
                 f"first compiled step; break-even = epochs of {EPOCH_IMAGES:,} images after which the compiled model "
                 "has saved its compile time.",
                 ["model", "eager img/s", "compiled img/s", "speed-up", "compile s", "break-even epochs"], rows,
                 ["Compiling is not the suite's default: on this CPU it is slower than eager for every model "
                  "measured."])


if __name__ == "__main__":
    main(sys.argv[1:] or ["majeed_cnn", "seelam_cnn", "sahi_cnn", "lenet5"])
