"""The scheme registry is the only list of scheme names: one module per provider registers its
scheme there, and the sources config, the kinds of scheme, the OpenAPI document, the CLI and the
docs all take the names from it."""

from __future__ import annotations

import argparse
import importlib
import re
import typing

from ingest.domain.webhooks.config import SourceConfig
from ingest.domain.webhooks.schemes import (
    HEADER_MAPPED_SCHEMES,
    REGISTRY,
    SIGNED_SCHEMES,
    TIMESTAMPED_SCHEMES,
)
from ingest_tools import openapi
from ingest_tools.cli.main import build_parser

from tests.support import ROOT

SCHEMES = ROOT / "services" / "ingest" / "src" / "ingest" / "domain" / "webhooks" / "schemes"


def module_name(scheme: str) -> str:
    return f"ingest.domain.webhooks.schemes.{scheme.replace('-', '_')}"


def test_each_provider_module_registers_its_scheme() -> None:
    providers = {path.stem for path in SCHEMES.glob("*.py")} - {"__init__", "common"}
    assert {scheme.replace("-", "_") for scheme in REGISTRY} == providers
    for name, scheme in REGISTRY.items():
        assert scheme.name == name
        assert importlib.import_module(module_name(name)).SCHEME is scheme


def test_the_sources_config_takes_exactly_the_registered_names() -> None:
    annotation = SourceConfig.model_fields["scheme"].annotation
    assert typing.get_args(annotation) == tuple(REGISTRY)


def test_the_kinds_of_scheme() -> None:
    assert set(REGISTRY) - {"none"} == SIGNED_SCHEMES
    assert {
        "stripe",
        "slack",
        "standard-webhooks",
        "svix",
        "zoom",
        "twitch",
        "discord",
        "sendgrid",
        "paddle",
        "linear",
        "hubspot",
        "mailgun",
    } == TIMESTAMPED_SCHEMES
    assert {"hmac-sha256", "basic", "token", "none"} == HEADER_MAPPED_SCHEMES


def test_the_docs_list_the_registered_schemes() -> None:
    text = (ROOT / "docs" / "webhooks.md").read_text("utf-8")
    row = next(line for line in text.splitlines() if line.startswith("| `scheme` |"))
    assert re.findall(r"`([a-z0-9-]+)`", row.split("|")[3]) == list(REGISTRY)


def test_the_openapi_document_and_the_cli_name_every_scheme() -> None:
    description = openapi.build_document()["paths"]["/webhooks/{source}"]["post"]["description"]
    commands = next(
        action
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    send = commands.choices["send"]
    sources_help = next(a.help for a in send._actions if "--sources" in a.option_strings)
    for name in REGISTRY:
        assert name in description
        assert name in str(sources_help)
