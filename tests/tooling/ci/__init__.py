"""Tests of scripts/ci and of the GitHub workflows (a package, so its conftest does not
shadow tests/conftest.py, which other test modules import as `conftest`)."""
