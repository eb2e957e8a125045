"""Local sources files: JSON, or YAML, validated as the runtime validates the sources document.

The Lambda only ever reads JSON (``SOURCES`` or an SSM parameter, see
:mod:`ingest.domain.webhooks.sources`); YAML is for files given to ``ingest serve --sources``,
``ingest send`` and ``ingest replay``, and pyyaml is not in the Lambda package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ingest.domain.webhooks.config import (
    SourcesDocument,
    SourcesDocumentError,
    parse_sources_document,
    validate_sources_document,
)


def _load_yaml(text: str) -> Any:
    try:
        import yaml
    except ImportError:  # pragma: no cover - depends on the installation
        raise SourcesDocumentError(
            "the sources document is not JSON, and YAML needs pyyaml (install ingest-tools[local])"
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise SourcesDocumentError(f"the sources document is not valid YAML{where}") from None


def parse_sources_text(text: str) -> SourcesDocument:
    """Parse and validate a sources document given as JSON or YAML text.

    Text whose first non-blank character is ``{`` is JSON and never touches the YAML parser;
    anything else is YAML. Blank text is an empty document.
    """
    stripped = text.strip()
    if not stripped or stripped.startswith("{"):
        return parse_sources_document(text)
    return validate_sources_document(_load_yaml(text))


def read_sources_file(path: Path) -> SourcesDocument:
    """The sources document in file ``path`` (JSON or YAML)."""
    return parse_sources_text(path.read_text("utf-8"))
