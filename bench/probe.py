"""Runs in a fresh interpreter: time import + first request (cold), then N warm requests.

Usage: python -m bench.probe MODULE WARM_REQUESTS RESULT_FILE
"""

from __future__ import annotations

import importlib
import json
import os
import statistics
import sys
import time
from typing import Any

EVENT_BODY = json.dumps(
    {
        "type": "order.created",
        "source": "shop",
        "data": {"order_id": "A-1001", "total": 129.95, "items": [{"sku": "X1", "qty": 2}]},
    }
)


def api_event(n: int) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "ANY /events",
        "rawPath": "/events",
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "user-agent": "bench"},
        "requestContext": {
            "http": {
                "method": "POST",
                "path": "/events",
                "sourceIp": "127.0.0.1",
                "userAgent": "bench",
            },
            "requestId": f"bench-{n}",
            "routeKey": "ANY /events",
            "stage": "$default",
        },
        "body": EVENT_BODY,
        "isBase64Encoded": False,
    }


#: Batches of events with ids (a conditional write each, as the cost model's sample event), timed
#: after the warm requests for the service's handler only: what one more event of a batch costs.
BATCH_EVENTS = 100
BATCHED = "ingest.handler"
BATCH_REQUESTS = int(os.environ.get("BENCH_BATCH_REQUESTS", "10"))


def batch_event(n: int) -> dict[str, Any]:
    event = api_event(n)
    record = json.loads(EVENT_BODY)
    event["body"] = json.dumps([{**record, "id": f"bench-{n}-{i}"} for i in range(BATCH_EVENTS)])
    return event


class Context:
    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bench"
    aws_request_id = "bench"


def main() -> None:
    module_name, warm, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    started, started_cpu = time.perf_counter(), time.process_time()
    handler = importlib.import_module(module_name).lambda_handler
    imported = time.perf_counter()
    first = handler(api_event(0), Context())
    cold_done, cold_cpu = time.perf_counter(), time.process_time()
    assert 200 <= first["statusCode"] < 300, first
    wall: list[float] = []
    cpu: list[float] = []
    for n in range(1, warm + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        answer = handler(api_event(n), Context())
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        assert 200 <= answer["statusCode"] < 300, answer
    batch_cpu: list[float] = []
    batches = BATCH_REQUESTS if warm and module_name == BATCHED else 0
    for n in range(warm + 1, warm + 1 + batches):
        c0 = time.process_time()
        answer = handler(batch_event(n), Context())
        batch_cpu.append(time.process_time() - c0)
        assert answer["statusCode"] == 202, answer
    result = {
        "import_ms": (imported - started) * 1000,
        "cold_ms": (cold_done - started) * 1000,
        "cold_cpu_ms": (cold_cpu - started_cpu) * 1000,
        "warm_ms": statistics.median(wall) * 1000 if wall else None,
        "warm_cpu_ms": statistics.mean(cpu) * 1000 if cpu else None,
        "batch_cpu_ms": statistics.median(batch_cpu) * 1000 if batch_cpu else None,
    }
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(result, fh)


if __name__ == "__main__":
    main()
