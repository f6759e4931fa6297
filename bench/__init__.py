"""Benchmarks at scale: every stage of the daily and monthly runs against its floor (see bench/README.md)."""
