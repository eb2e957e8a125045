"""Fixtures for the whole suite (helpers live in tests/support.py)."""

from tests.support import _local_credentials, server

__all__ = ["_local_credentials", "server"]
