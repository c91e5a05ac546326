"""Benchmarks: each module exposes run(**params) -> dict; `hotline bench NAME` prints JSON."""
