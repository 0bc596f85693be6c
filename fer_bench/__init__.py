"""fer-bench: honest benchmarks of facial-expression-recognition models."""

__version__ = "0.1.0"
