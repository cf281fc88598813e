"""Benchmarks: run by hand or with make targets, never as part of the test suite."""
