"""What a fresh interpreter imports for a piece of work: the cold start pays for every module
(docs/decisions/0011-cold-start-budget.md)."""

from __future__ import annotations

import textwrap

from tests.support import fresh_python


def test_json_documents_never_import_yaml() -> None:
    """pyyaml is not in the Lambda package: JSON input must not need it, in the tools either."""
    script = textwrap.dedent(
        """
        import sys
        from ingest.domain.webhooks.config import parse_sources_document
        from ingest.domain.webhooks.sources import load_sources
        from ingest_tools.sources import parse_sources_text
        parse_sources_document('{"sources": {"a": {"scheme": "none"}}}')
        load_sources('{"sources": {"b": {"scheme": "none"}}}')
        parse_sources_text('{"sources": {"c": {"scheme": "none"}}}')
        assert "yaml" not in sys.modules, "yaml was imported"
        assert "boto3" not in sys.modules, "boto3 was imported"
        assert "aws_lambda_powertools.utilities.parameters" not in sys.modules
        """
    )
    fresh_python(script)
