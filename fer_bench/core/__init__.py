"""The lowest layer: errors, files, statistics, metrics, run records and typed settings; imports no other layer."""
