"""Reading run records: what a record says beyond its raw keys (used by the runner and the reports)."""

from __future__ import annotations


def training_minutes(record: dict) -> float:
    """Training wall clock of a run in minutes: per-epoch validation included, the observed-test
    evaluation (observe_test) and the final test evaluation excluded."""
    curves = record.get("curves") or []
    if curves and "elapsed_seconds" in curves[-1]:
        return curves[-1]["elapsed_seconds"] / 60
    timing = record["timing"]
    return (timing["fit_seconds"] - timing.get("observed_test_seconds", 0.0)) / 60
