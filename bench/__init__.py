"""Benchmarks: the ingest handler against a bare boto3 handler, side by side."""
