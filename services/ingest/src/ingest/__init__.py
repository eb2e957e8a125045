"""Serverless HTTP event ingestion: receive, validate, enrich and store events durably."""

__version__ = "1.0.0"
