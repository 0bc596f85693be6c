"""Formatting of test statistics for tables (shared by the leaderboard and the arena headline)."""

from __future__ import annotations


def format_p(p: float | None) -> str:
    """A p-value for a table: 3 significant digits; one that underflows double precision is '< 1e-16'."""
    if p is None:
        return "–"
    return "< 1e-16" if p < 1e-16 else f"{p:.3g}"
