"""Command-line interface: `ingest serve`, `ingest send`, `ingest events ...`, `ingest cost`."""
