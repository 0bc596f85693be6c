"""The statistics behind every leaderboard (scipy.stats), and how their values are printed."""

from __future__ import annotations

import math
from statistics import mean, stdev

from scipy import stats


def mean_std_ci(values: list[float]) -> tuple[float, float | None, float | None]:
    """Mean, sample standard deviation and the 95% CI half-width of the mean (Student t; None with one value)."""
    m = mean(values)
    if len(values) < 2:
        return m, None, None
    s = stdev(values)
    return m, s, float(stats.t.ppf(0.975, len(values) - 1)) * s / math.sqrt(len(values))


def mcnemar_p(b: int, c: int) -> float:
    """Exact two-sided McNemar test: b, c = discordant pairs (one model right, the other wrong); under the
    null hypothesis each discordant pair goes either way with probability 1/2."""
    if b + c == 0:
        return 1.0
    return float(stats.binomtest(b, b + c, 0.5).pvalue)


def format_p(p: float | None) -> str:
    """A p-value for a table: 3 significant digits; one that underflows double precision is '< 1e-16'."""
    if p is None:
        return "–"
    return "< 1e-16" if p < 1e-16 else f"{p:.3g}"
