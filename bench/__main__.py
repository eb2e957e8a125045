"""``make bench``: cold start and warm request time of the ingest handler vs the bare handler.

Both run in fresh interpreters, alternately, against the same instant DynamoDB stub, so the ratio is
the handlers' own cost. Figures are medians over the rounds.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))
WARM_REQUESTS = int(os.environ.get("BENCH_WARM_REQUESTS", "1000"))
COLD_LIMIT = 1.35
WARM_LIMIT = 1.5
HANDLERS = {"ingest": "ingest.handler", "bare": "bench.bare_handler"}


def _env(port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{port}",
            "EVENTS_TABLE": "bench-events",
            "POWERTOOLS_SERVICE_NAME": "ingest",
            "POWERTOOLS_METRICS_NAMESPACE": "Ingest",
            "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
        }
    )
    return env


def _probe(module: str, warm: int, env: dict[str, str]) -> dict[str, float]:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(
            [sys.executable, "-m", "bench.probe", module, str(warm), out.name],
            env=env,
            stdout=subprocess.DEVNULL,  # Lambda ships stdout to CloudWatch; here it is discarded
            check=True,
            timeout=300,
        )
        result: dict[str, float] = json.loads(Path(out.name).read_text())
        return result


def main() -> int:
    stub = subprocess.Popen(
        [sys.executable, "-m", "bench.stub"], stdout=subprocess.PIPE, text=True, env=_env(0)
    )
    try:
        assert stub.stdout is not None
        env = _env(int(stub.stdout.readline()))
        for module in HANDLERS.values():  # warm the OS file cache; not counted
            _probe(module, 10, env)
        cold: dict[str, list[float]] = {name: [] for name in HANDLERS}
        imports: dict[str, list[float]] = {name: [] for name in HANDLERS}
        warm: dict[str, list[float]] = {name: [] for name in HANDLERS}
        for round_no in range(ROUNDS):
            order = list(HANDLERS.items()) if round_no % 2 == 0 else list(HANDLERS.items())[::-1]
            for name, module in order:
                result = _probe(module, WARM_REQUESTS if round_no < 5 else 0, env)
                cold[name].append(result["cold_ms"])
                imports[name].append(result["import_ms"])
                if result["warm_median_ms"] is not None:
                    warm[name].append(result["warm_median_ms"])
    finally:
        stub.terminate()
        stub.wait(timeout=10)

    med = {
        k: {
            "cold": statistics.median(cold[k]),
            "import": statistics.median(imports[k]),
            "warm": statistics.median(warm[k]),
        }
        for k in HANDLERS
    }
    cold_ratio = med["ingest"]["cold"] / med["bare"]["cold"]
    warm_ratio = med["ingest"]["warm"] / med["bare"]["warm"]
    print(
        f"rounds: {ROUNDS} cold, {min(ROUNDS, 5)} x {WARM_REQUESTS} warm requests; python {sys.version.split()[0]}"
    )
    print(f"{'handler':<10}{'import ms':>12}{'cold ms':>12}{'warm ms':>12}")
    for name in HANDLERS:
        m = med[name]
        print(f"{name:<10}{m['import']:>12.1f}{m['cold']:>12.1f}{m['warm']:>12.3f}")
    print(f"cold start ratio (ingest/bare): {cold_ratio:.2f}x (target <= {COLD_LIMIT}x)")
    print(f"warm request ratio (ingest/bare): {warm_ratio:.2f}x (target <= {WARM_LIMIT}x)")
    ok = cold_ratio <= COLD_LIMIT and warm_ratio <= WARM_LIMIT
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
