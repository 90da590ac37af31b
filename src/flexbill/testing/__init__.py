"""Helpers for the test suite and the benchmarks (not used by the server)."""
