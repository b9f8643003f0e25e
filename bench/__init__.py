"""Benchmarks: `make bench` (python -m bench) runs every bench/bench_*.py module.

Each module exposes `run() -> list[dict]`, every dict with at least "bench", "value" and "unit".
"""
