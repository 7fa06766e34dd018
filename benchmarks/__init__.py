"""Benchmarks of DESIGN.md's quality bars; each is a script that ends with one JSON line."""
