"""Benchmarks: each module brings up what it measures, drives it over loopback from this
process, and writes its section of BENCHMARKS.md."""
