"""Benchmark tools: a synthetic corpus generator and ``make bench`` (not used by the build)."""
