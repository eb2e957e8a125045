"""Tests of scripts/fork.py (a package, so that its conftest and fake stay its own)."""
