"""Every subcommand's error paths, through the installed `ingest` command: missing files, bad
documents, nothing listening, invalid values. Each ends in one line on stderr and a non-zero exit
(2 for what the command was given, 1 for work that failed), never a traceback."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Ran, Server, free_port, ingest, serving, write_sources

pytestmark = pytest.mark.slow

DEAD = f"http://127.0.0.1:{free_port()}"  # nothing listens there
EVENT_ID = "01a00000-0000-7000-8000-000000000000"
GITHUB = {"github": {"scheme": "github", "secrets": ["gh-errors-secret"]}}
STRIPE = {"stripe": {"scheme": "stripe", "secrets": ["whsec_errorsSecret"]}}


def one_line(ran: Ran, code: int, *words: str) -> None:
    """Failed with ``code``, saying so in one line that holds ``words``; no traceback."""
    assert ran.code == code, ran
    assert "Traceback" not in ran.err, ran.err
    lines = ran.err.strip().splitlines()
    assert len(lines) == 1, ran.err
    for word in words:
        assert word in lines[0], ran.err


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("errors")
    payload = folder / "payload.json"
    payload.write_text('{"type": "order.created"}', "utf-8")
    bad_yaml = folder / "bad.yaml"
    bad_yaml.write_text("sources:\n  github: [unclosed\n", "utf-8")
    unknown_key = folder / "unknown.json"
    unknown_key.write_text(json.dumps({"sources": {"x": {"scheme": "github", "typo": 1}}}))
    wrong_scheme = folder / "scheme.json"
    wrong_scheme.write_text(json.dumps({"sources": {"x": {"scheme": "nope", "secrets": ["s"]}}}))
    sources = write_sources(folder, {**GITHUB, **STRIPE})
    not_export = folder / "not-export.jsonl"
    not_export.write_text("precious\n", "utf-8")
    return {
        "payload": str(payload),
        "missing": str(folder / "missing.json"),
        "bad_yaml": str(bad_yaml),
        "unknown_key": str(unknown_key),
        "wrong_scheme": str(wrong_scheme),
        "sources": str(sources),
        "folder": str(folder),
        "not_export": str(not_export),
    }


@pytest.fixture(scope="module")
def api() -> Iterator[Server]:
    with serving(table="cli-errors") as server:
        yield server


#: A data directory no `ingest serve` runs from: a developer's own `make run` is never found.
NO_SERVE = {"INGEST_DATA_DIR": "/nonexistent/ingest-data"}


def run(*args: str) -> Ran:
    return ingest(*args, env=NO_SERVE, unset=("SOURCES", "INGEST_URL", "AWS_ENDPOINT_URL_DYNAMODB"))


# --- the command line itself -------------------------------------------------------------------


@pytest.mark.parametrize("args", [(), ("events",)])
def test_a_command_without_its_subcommand_prints_its_help(args: tuple[str, ...]) -> None:
    ran = run(*args)
    assert ran.code == 2
    assert ran.out.startswith(f"usage: ingest {' '.join(args)}".rstrip() + " ")
    assert "Traceback" not in ran.err


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("nope",), ("invalid choice",)),
        (("events", "list", "--limit", "0"), ("--limit", "1 or more")),
        (("events", "list", "--limit", "-1"), ("--limit",)),
        (("events", "tail", "--since", "yesterday"), ("is not a time",)),
        (("events", "list", "--table", "ab"), ("is not a table name",)),
        (("events", "export"), ("--out",)),
        (("send", "--url", "localhost:3000", "--type", "t"), ("http://",)),
        (("replay", "--to", "ftp://example.com"), ("http://",)),
        (("forward", "--to", "nope"), ("http://",)),
        (("trigger", "--url", "nope", "github.push"), ("http://",)),
        # No abbreviations: --source is never taken for --sources.
        (("trigger", "github.push", "--source", "x"), ("unrecognized arguments: --source",)),
        (("events", "list", "--endpoint", "http://x"), ("unrecognized arguments: --endpoint",)),
    ],
)
def test_invalid_values_are_one_line_and_exit_2(
    args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    one_line(run(*args), 2, *words)


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """A parser and every subcommand's, depth first."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_help_texts_show_no_rst_markup_and_name_the_environment() -> None:
    from ingest_tools.cli.main import build_parser

    helps = {p.prog: p.format_help() for p in _parsers(build_parser())}
    assert {"ingest trigger", "ingest events tail", "ingest events show", "ingest cost"} <= set(
        helps
    )
    for prog, text in helps.items():
        assert "``" not in text, prog
    assert "INGEST_URL" in helps["ingest send"]
    listing = " ".join(helps["ingest events list"].split())
    assert "INGEST_TABLE" in listing
    assert "AWS_ENDPOINT_URL_DYNAMODB" in listing


# --- nothing listening -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("events", "get", EVENT_ID),
        ("events", "show", EVENT_ID),
        ("events", "list"),
        ("events", "tail"),
        ("events", "export", "--out", "-"),
        ("events", "backfill-shards"),
        ("forward", "--to", "http://127.0.0.1:9/app", "--checkpoint", "/dev/null/x"),
    ],
)
def test_a_table_with_nothing_listening_is_one_line(args: tuple[str, ...]) -> None:
    one_line(run(*args, "--endpoint-url", DEAD), 1, "cannot read table", DEAD)


def test_an_api_with_nothing_listening_is_one_line(files: dict[str, str]) -> None:
    one_line(run("send", "--url", DEAD, "--type", "t"), 1, "cannot reach", DEAD)
    one_line(
        run("trigger", "github.push", "--url", DEAD, "--sources", files["sources"]),
        1,
        "cannot reach",
    )


def test_replay_to_a_dead_target_stops_before_sending(api: Server) -> None:
    for _ in range(3):
        assert api.post_json("/events", {"type": "replayed.nowhere"}).status == 202
    ran = run("replay", "--url", DEAD, "--endpoint-url", api.endpoint, "--table", api.table)
    one_line(ran, 1, f"cannot reach {DEAD}", "nothing was sent")


# --- files and documents -----------------------------------------------------------------------


def test_send_reports_a_missing_file(files: dict[str, str]) -> None:
    one_line(run("send", files["missing"]), 2, files["missing"], "no such file")
    one_line(
        run("send", "--webhook", "github", "--sources", files["sources"], files["missing"]),
        2,
        "no such file",
    )


@pytest.mark.parametrize("document", ["missing", "bad_yaml", "unknown_key", "wrong_scheme"])
@pytest.mark.parametrize("command", ["send", "trigger", "replay"])
def test_a_bad_sources_document_is_one_line(
    files: dict[str, str], document: str, command: str
) -> None:
    args = {
        "send": ("send", "--webhook", "github", files["payload"]),
        "trigger": ("trigger", "github.push"),
        "replay": ("replay", "--endpoint-url", DEAD),
    }[command]
    one_line(run(*args, "--sources", files[document], "--url", DEAD), 2, "sources document")


def test_a_webhook_without_a_sources_document_says_how_to_give_one(files: dict[str, str]) -> None:
    ran = run("send", "--webhook", "github", files["payload"])
    one_line(ran, 2, "no sources document", "--sources FILE", "SOURCES")
    one_line(run("trigger", "github.push"), 2, "no sources document")


def test_send_refuses_options_it_cannot_apply(files: dict[str, str]) -> None:
    stripe = ("send", "--webhook", "stripe", "--sources", files["sources"], "--url", DEAD)
    one_line(run(*stripe, "--type", "invoice.paid", files["payload"]), 2, "--type does not apply")
    one_line(run(*stripe, "--id", "evt_1", files["payload"]), 2, "--id does not apply")
    one_line(run("send", "--type", "t", files["payload"]), 2, "--type", "with FILE")
    one_line(
        run("send", "--webhook", "github", "--data", "{}", "--sources", files["sources"], "x"),
        2,
        "--data",
    )
    one_line(run("send", "--retries", "-1", "--type", "t"), 2, "--retries")


def test_trigger_names_what_exists(files: dict[str, str]) -> None:
    one_line(run("trigger"), 2, "--list")
    one_line(run("trigger", "github.nope"), 2, "push")
    one_line(run("trigger", "nope.event"), 2, "stripe")
    one_line(
        run("trigger", "stripe.invoice.paid", "--webhook", "github", "--sources", files["sources"]),
        2,
        "not stripe",
    )


def test_replay_and_export_report_bad_files(files: dict[str, str], api: Server) -> None:
    table = ("--endpoint-url", api.endpoint, "--table", api.table)
    one_line(run("replay", "--from", files["missing"], "--url", DEAD), 2, "no such file")
    one_line(run("replay", "--id", "nope", *table), 2, "not an event id")
    one_line(run("replay", "--id", EVENT_ID, "--url", api.url, *table), 1, "not found")
    one_line(run("replay", "--batch", "0", *table), 2, "--batch")
    one_line(run("events", "export", "--out", files["not_export"], *table), 2, "--resume")
    one_line(
        run("events", "export", "--resume", "--out", files["not_export"], *table),
        2,
        "cannot resume",
    )
    one_line(run("events", "export", "--resume", "--out", "-", *table), 2, "--resume")
    missing_dir = str(Path(files["folder"]) / "no" / "such" / "dir.jsonl")
    one_line(run("events", "export", "--out", missing_dir, *table), 2, missing_dir)
    one_line(run("events", "export", "--out", files["folder"], *table), 2, "is a folder")


def test_forward_reports_a_checkpoint_it_cannot_use(files: dict[str, str], api: Server) -> None:
    table = ("--endpoint-url", api.endpoint, "--table", api.table, "--to", "http://127.0.0.1:9/")
    for checkpoint, words in (
        (files["not_export"], "not JSON"),
        (files["unknown_key"], "is not a checkpoint"),
        (files["folder"], "cannot read the checkpoint"),
    ):
        one_line(run("forward", *table, "--checkpoint", checkpoint, "--mode", "listing"), 2, *words)


def test_events_commands_report_unknown_and_malformed_ids(api: Server) -> None:
    table = ("--endpoint-url", api.endpoint, "--table", api.table)
    for action in ("get", "show"):
        one_line(run("events", action, EVENT_ID, *table), 1, "not found")
        one_line(run("events", action, "nope", *table), 2, "not an event id")
    one_line(run("events", "list", "--cursor", "nope", *table), 2, "not an event id")
    one_line(run("events", "get", EVENT_ID, "--table", "absent", "--endpoint-url", api.endpoint), 1)


def test_debug_shows_the_traceback_that_is_otherwise_one_line() -> None:
    args = ("events", "list", "--endpoint-url", DEAD)
    one_line(run(*args), 1, "cannot read table")
    for debugging in (ingest(*args, env={"INGEST_DEBUG": "1"}), run("--debug", *args)):
        assert debugging.code == 1
        assert "Traceback (most recent call last)" in debugging.err
        assert "cannot read table" in debugging.err


def test_the_environment_alone_names_a_local_table(api: Server) -> None:
    """AWS_ENDPOINT_URL_DYNAMODB and INGEST_TABLE, without credentials or a region: a loopback
    endpoint is the emulator, which takes the placeholder ones."""
    assert api.post_json("/events", {"type": "from.the.environment"}).status == 202
    ran = ingest(
        "events",
        "list",
        "--limit",
        "1",
        env={"AWS_ENDPOINT_URL_DYNAMODB": api.endpoint, "INGEST_TABLE": api.table},
        unset=("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_REGION"),
    )
    assert ran.code == 0, ran
    assert json.loads(ran.out)["type"] == "from.the.environment"
