"""Suites: parsing, running cells (locks, resume), tuning studies, dry-run plans, external evals."""
