"""Reports: run records -> leaderboards (tables, statistics, sentences and plots computed from them)."""

from fer_bench.report.claims import claim_verdict
from fer_bench.report.leaderboard import write_leaderboard
from fer_bench.report.progress import time_to_accuracy

__all__ = ["claim_verdict", "time_to_accuracy", "write_leaderboard"]
