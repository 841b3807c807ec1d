"""Benchmark clients: one module per client, each run in its own process by ``benchmarks.run``."""
