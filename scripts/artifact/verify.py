"""``make verify-artifact``: run dist/ingest.zip as Lambda would, under an aarch64 CPython 3.11.

A zip that imports and serves on the build machine can still fail its first real invocation: a
compiled file for the wrong machine or a newer glibc, a dependency left out of the lock, bytecode
for another Python. This check looks at the artifact the way the runtime will
(docs/decisions/0024-verify-artifact.md):

1. statically (scripts/artifact/archive.py): every ELF file is AArch64 and within the runtime's
   glibc, every extension module has a tag CPython 3.11 on aarch64 loads, every wheel's tags
   fit arm64 python3.11;
2. it unpacks the zip and starts moto's server on 127.0.0.1 with the events table created as
   ``modules/event-store`` declares it;
3. under Debian's arm64 ``python3.11`` run by qemu (scripts/artifact/sysroot.py), isolated from
   any site-packages, scripts/artifact/guest.py imports ``ingest.handler.lambda_handler`` and
   invokes it with API Gateway HTTP API (payload 2.0) events: ``GET /health`` and a
   ``POST /events`` with a JSON body, the function's environment pointing DynamoDB at the
   emulator; then it imports every top-level package and every extension module in the zip,
   and every module of the service's own package (routes not invoked here import lazily);
4. from the host it reads the stored event back from the emulator and compares it with what was
   sent, and checks that the interpreter wrote no bytecode into the unpacked artifact (the
   shipped ``.pyc`` files are missing or not CPython 3.11's otherwise).

Any problem is listed and the exit status is 1.

Usage: ``python -m scripts.artifact.verify [--artifact dist/ingest.zip] [--keep]``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scripts import harness
from scripts.artifact import archive, sysroot
from scripts.harness import aws_env, fake_credentials

ROOT = Path(__file__).resolve().parents[2]
ARTIFACT = ROOT / "dist" / "ingest.zip"
GUEST = Path(__file__).resolve().with_name("guest.py")
HANDLER = "ingest.handler.lambda_handler"
REGION = "us-east-1"
TABLE = "ingest-verify-artifact"
SOURCE = "verify-artifact"
GUEST_TIMEOUT = 600  # seconds; an emulated cold start takes a few


def log(message: str) -> None:
    print(f"verify-artifact: {message}", flush=True)


def emulator_credentials() -> dict[str, str]:
    """Fixed credentials: neither the emulator nor the function may see a developer's own."""
    return fake_credentials(REGION, "verify-artifact", session_token=True)


@contextlib.contextmanager
def moto_server(scratch: Path) -> Iterator[str]:
    """moto's server on 127.0.0.1, from the project's environment; yields its endpoint."""
    env = aws_env(REGION, "verify-artifact", session_token=True)
    with harness.moto_server(env=env, log=scratch / "moto.log") as moto:
        yield moto.url


def api_event(method: str, path: str, body: str | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event for the route ``ANY <path>``."""
    now = datetime.now(tz=UTC)
    route_key = f"ANY {path}"
    headers = {
        "host": "verify.execute-api.us-east-1.amazonaws.com",
        "user-agent": "verify-artifact",
        "x-forwarded-for": "192.0.2.10",
        "x-forwarded-proto": "https",
        "x-forwarded-port": "443",
    }
    if body is not None:
        headers["content-type"] = "application/json"
        headers["content-length"] = str(len(body.encode()))
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "verify",
            "domainName": headers["host"],
            "domainPrefix": "verify",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.10",
                "userAgent": "verify-artifact",
            },
            "requestId": f"verify-{uuid.uuid4()}",
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if body is not None:
        event["body"] = body
    return event


def function_environment(endpoint: str, task_root: Path, home: Path) -> dict[str, str]:
    """What Lambda and modules/ingest-function set, DynamoDB pointed at the emulator."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "AWS_LAMBDA_FUNCTION_NAME": "ingest-verify-artifact",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "LAMBDA_TASK_ROOT": str(task_root),
        "EVENTS_TABLE": TABLE,
        "RETENTION_DAYS": "30",
        "POWERTOOLS_SERVICE_NAME": "ingest",
        "POWERTOOLS_METRICS_NAMESPACE": "Ingest",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    env.update(emulator_credentials())
    return env


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def response_body(entry: dict[str, Any]) -> Any:
    try:
        return json.loads(entry["response"]["body"])
    except (KeyError, TypeError, ValueError):
        return None


def check_invocations(result: dict[str, Any], events: list[dict[str, Any]]) -> list[str]:
    """Problems in what the guest reported about itself and its invocations."""
    problems: list[str] = []
    if result.get("machine") != "aarch64" or result.get("python", [])[:2] != [3, 11]:
        problems.append(
            f"the guest is {result.get('machine')} Python {result.get('python')}, "
            "not aarch64 CPython 3.11"
        )
    if "handler_error" in result:
        problems.append(f"importing {HANDLER} failed:\n{result['handler_error']}")
        return problems
    invocations = result.get("invocations", [])
    if len(invocations) != len(events):
        problems.append(f"{len(invocations)} invocations reported for {len(events)} events")
        return problems
    for event, entry in zip(events, invocations, strict=True):
        name = f"{event['requestContext']['http']['method']} {event['rawPath']}"
        if "error" in entry:
            problems.append(f"{name} raised:\n{entry['error']}")
            continue
        status = entry["response"].get("statusCode")
        body = response_body(entry)
        if name == "GET /health" and (status != 200 or body != {"status": "ok"}):
            problems.append(f"{name} answered {status} {body}, not 200 {{'status': 'ok'}}")
        if name == "POST /events" and (status != 202 or not isinstance(body, dict)):
            problems.append(f"{name} answered {status} {body}, not 202 with an event id")
        elif name == "POST /events" and "event_id" not in body:
            problems.append(f"{name} answered {status} {body}, without an event id")
    return problems


def check_stored(
    endpoint: str, sent: dict[str, Any], event: dict[str, Any], event_id: str
) -> list[str]:
    """Read the event back from the emulator, from the host, and compare it with what was sent."""
    from ingest.adapters.dynamodb import EventStore

    store = EventStore(TABLE, endpoint_url=endpoint, region_name=REGION)
    items = [r for r in store.query_source(SOURCE) if r.get("event_id") == event_id]
    if len(items) != 1:
        return [f"event {event_id} is stored {len(items)} times in the emulator, not once"]
    item = items[0]
    problems = [
        f"stored {key} is {item.get(key)!r}, not {value!r}"
        for key, value in (
            ("type", sent["type"]),
            ("id", sent["id"]),
            ("source", SOURCE),
            ("request_id", event["requestContext"]["requestId"]),
        )
        if item.get(key) != value
    ]
    data = item.get("data")
    if not isinstance(data, str) or json.loads(data) != sent["data"] or "12.50" not in data:
        problems.append(f"stored data is {data!r}, not the exact JSON sent ({sent['data']})")
    return problems


def verify(artifact: Path, tools: Path, scratch: Path) -> list[str]:
    started = time.monotonic()
    package = HANDLER.split(".", 1)[0]
    with zipfile.ZipFile(artifact) as zipped:
        report = archive.check_archive(zipped, package)
        names = set(zipped.namelist())
        task = scratch / "task"
        zipped.extractall(task)
    problems = list(report.problems)
    log(
        f"static: {len(report.elf_files)} ELF files, {len(report.wheels)} wheels, "
        f"{len(report.problems)} problems ({time.monotonic() - started:.1f}s)"
    )
    handler_file = HANDLER.rpartition(".")[0].replace(".", "/") + ".py"
    if handler_file not in names:
        return [*problems, f"{handler_file} is not in the artifact"]

    sent = {
        "type": "verify.artifact",
        "id": f"verify-{uuid.uuid4()}",
        "source": SOURCE,
        "data": {"machine": "aarch64", "amount": 12.5},
    }
    body = json.dumps(sent).replace("12.5", "12.50")  # the stored text must keep "12.50"
    events = [api_event("GET", "/health"), api_event("POST", "/events", body)]
    plan = {
        "handler": HANDLER,
        "events": events,
        "imports": sorted({*report.top_level, *report.extension_modules, *report.package_modules}),
    }
    (scratch / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    home = scratch / "home"
    home.mkdir()
    before = files_under(task)

    with moto_server(scratch) as endpoint:
        from ingest.adapters.dynamodb import EventStore

        EventStore(TABLE, endpoint_url=endpoint, region_name=REGION).ensure_table()
        log(f"emulator: moto on {endpoint}, table {TABLE} ({time.monotonic() - started:.1f}s)")
        guest_started = time.monotonic()
        run = subprocess.run(
            [
                *sysroot.guest_command(tools),
                "-I",
                "-S",
                str(GUEST),
                str(task),
                str(scratch / "plan.json"),
                str(scratch / "result.json"),
            ],
            env=function_environment(endpoint, task, home),
            cwd=home,
            capture_output=True,
            text=True,
            timeout=GUEST_TIMEOUT,
            check=False,
        )
        (scratch / "guest.log").write_text(run.stdout + run.stderr, encoding="utf-8")
        if run.returncode != 0 or not (scratch / "result.json").is_file():
            return [*problems, f"the aarch64 interpreter failed ({run.returncode}):\n{run.stderr}"]
        result = json.loads((scratch / "result.json").read_text(encoding="utf-8"))
        log(
            f"guest: {result['machine']} Python {'.'.join(map(str, result['python']))}, "
            f"handler imported in {result['handler_import_seconds']}s, "
            + ", ".join(
                f"{e['routeKey']} {e.get('response', {}).get('statusCode', 'raised')} in {e['seconds']}s"
                for e in result["invocations"]
            )
            + f", {len(plan['imports'])} imports ({time.monotonic() - guest_started:.1f}s)"
        )
        problems += check_invocations(result, events)
        problems += [
            f"import {name} failed under aarch64 CPython 3.11:\n{error}"
            for name, error in sorted(result["import_errors"].items())
        ]
        posted = result["invocations"][1:2] if len(result["invocations"]) == 2 else []
        answer = response_body(posted[0]) if posted else None
        if isinstance(answer, dict) and isinstance(answer.get("event_id"), str):
            stored = check_stored(endpoint, sent, events[1], answer["event_id"])
            problems += stored
            if not stored:
                log(f"emulator: event {answer['event_id']} read back from the host")

    written = sorted(files_under(task) - before)
    if written:
        problems.append(
            "the interpreter wrote files into the artifact (its bytecode is missing or not "
            f"CPython 3.11's): {', '.join(written[:10])}{' ...' if len(written) > 10 else ''}"
        )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifact", type=Path, default=ARTIFACT)
    parser.add_argument("--tools", type=Path, default=sysroot.TOOLS, help="the installed sysroot")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args(argv)
    if not args.artifact.is_file():
        log(f"{args.artifact} is missing (make package)")
        return 1
    if not (args.tools / ".installed").is_file():
        log(f"{args.tools} has no interpreter (make artifact-sysroot)")
        return 1
    # This process reads the emulator too: with fixed credentials, never a developer's profile.
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(name, None)
    os.environ.update(emulator_credentials())
    started = time.monotonic()
    build = ROOT / "build"
    build.mkdir(exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="verify-artifact-", dir=build))
    try:
        problems = verify(args.artifact.resolve(), args.tools.resolve(), scratch)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        problems = [f"the check itself failed: {exc}"]
    elapsed = time.monotonic() - started
    if problems:
        guest_log = scratch / "guest.log"
        if guest_log.is_file():
            lines = guest_log.read_text(encoding="utf-8").splitlines()
            log(f"the function's output (last {min(len(lines), 40)} of {len(lines)} lines):")
            print("\n".join(lines[-40:]), flush=True)
        for problem in problems:
            log(f"FAIL {problem}")
        log(f"{args.artifact.name}: {len(problems)} problems ({elapsed:.1f}s)")
    else:
        log(f"{args.artifact.name} passed ({elapsed:.1f}s)")
    if args.keep:
        log(f"kept {scratch}")
    else:
        shutil.rmtree(scratch, ignore_errors=True)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
