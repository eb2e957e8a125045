"""Runs inside the aarch64 interpreter: import the handler from the unpacked artifact, invoke it.

Started by scripts/artifact/verify.py as
``python3.11 -I -S guest.py TASK_ROOT PLAN RESULT``: isolated (no environment variables of
Python's, no user or site packages), so that only the standard library and ``TASK_ROOT`` (the
artifact, as in ``/var/task``) can satisfy an import. ``PLAN`` (JSON) holds the handler's path,
the API Gateway events to invoke it with and the modules to import afterwards; ``RESULT`` (JSON)
receives what happened. The handler is imported and invoked first, in a fresh interpreter, as
Lambda does on a cold start; the other imports come after it.

Standard library only: nothing else exists in this interpreter.
"""

from __future__ import annotations

import importlib
import json
import platform
import sys
import time
import traceback
from typing import Any


class LambdaContext:
    """The attributes of Lambda's context object that Powertools reads."""

    function_name = "ingest-verify-artifact"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:ingest-verify-artifact"
    memory_limit_in_mb = 512
    log_group_name = "/aws/lambda/ingest-verify-artifact"
    log_stream_name = "verify-artifact"

    def __init__(self, request_id: str) -> None:
        self.aws_request_id = request_id

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


def failure() -> str:
    return "".join(traceback.format_exc(limit=-8))


def run(task_root: str, plan: dict[str, Any]) -> dict[str, Any]:
    sys.path.insert(0, task_root)
    result: dict[str, Any] = {
        "machine": platform.machine(),
        "python": list(sys.version_info[:3]),
        "implementation": sys.implementation.name,
        "byteorder": sys.byteorder,
        "invocations": [],
        "import_errors": {},
    }
    module_name, _, function_name = plan["handler"].rpartition(".")
    started = time.perf_counter()
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
    except Exception:  # reported to the host, which fails the check
        result["handler_error"] = failure()
        handler = None
    result["handler_import_seconds"] = round(time.perf_counter() - started, 3)

    if handler is not None:
        for event in plan["events"]:
            request_id = event["requestContext"]["requestId"]
            started = time.perf_counter()
            entry: dict[str, Any] = {"routeKey": event["routeKey"]}
            try:
                entry["response"] = handler(event, LambdaContext(request_id))
            except Exception:
                entry["error"] = failure()
            entry["seconds"] = round(time.perf_counter() - started, 3)
            result["invocations"].append(entry)

    for name in plan["imports"]:
        try:
            module = importlib.import_module(name)
        except BaseException as exc:  # a module may even call sys.exit on import
            result["import_errors"][name] = f"{type(exc).__name__}: {exc}"
            continue
        origin = getattr(module, "__file__", None) or ""
        if origin and not origin.startswith(task_root.rstrip("/") + "/"):
            result["import_errors"][name] = f"imported from {origin}, not from the artifact"
    result["modules_loaded"] = len(sys.modules)
    return result


def main(argv: list[str]) -> int:
    task_root, plan_path, result_path = argv
    with open(plan_path, encoding="utf-8") as handle:
        plan = json.load(handle)
    result = run(task_root, plan)
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=2, default=str)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
