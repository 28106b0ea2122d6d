"""Benchmark of the case system against bare Temporal on the same machine: ``python -m bench.run``."""
