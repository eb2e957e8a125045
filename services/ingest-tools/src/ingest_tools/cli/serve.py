"""``ingest serve``: the real Lambda handler behind a local API Gateway, with DynamoDB emulated."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from ingest_tools.cli.common import DEFAULT_TABLE


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "serve", help="serve the API locally", description=__doc__
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--table", default=os.environ.get("EVENTS_TABLE", DEFAULT_TABLE))
    parser.add_argument(
        "--endpoint-url",
        default=None,
        help="use this DynamoDB-compatible endpoint (the table is created if missing) "
        "instead of the embedded emulator",
    )
    parser.add_argument(
        "--emulator-port",
        type=int,
        default=8000,
        help="port of the embedded DynamoDB emulator (0 picks a free one; default %(default)s)",
    )
    parser.add_argument(
        "--sources", type=Path, default=None, help="webhook sources file (JSON or YAML)"
    )
    parser.add_argument(
        "--retention-days", type=int, default=None, help="override RETENTION_DAYS for stored events"
    )
    parser.add_argument(
        "--forward-to",
        default=None,
        metavar="URL",
        help="also POST every newly stored event to this URL, as `ingest forward --to` does "
        "(webhooks byte-exact with their headers, events as CloudEvents)",
    )
    parser.add_argument(
        "--payload-bucket",
        default=os.environ.get("PAYLOAD_BUCKET", "ingest-payloads"),
        metavar="NAME",
        help="S3 bucket for payloads too large for an item, created at the emulator (or "
        "--endpoint-url) if missing (default: $PAYLOAD_BUCKET, else %(default)s; '' for none)",
    )
    parser.add_argument("--quiet", action="store_true", help="no access log lines")
    parser.add_argument(
        "--emit-metrics", action="store_true", help="print EMF metrics as Lambda would"
    )
    parser.set_defaults(func=run)


def _prepare_environment(args: argparse.Namespace, endpoint: str) -> None:
    os.environ["EVENTS_TABLE"] = args.table
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    os.environ["AWS_ENDPOINT_URL_S3"] = endpoint  # the payload bucket: moto serves both
    os.environ["PAYLOAD_BUCKET"] = args.payload_bucket
    if args.retention_days is not None:
        os.environ["RETENTION_DAYS"] = str(args.retention_days)
    if not args.emit_metrics:
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "INFO")


def _payload_bucket(bucket: str | None, endpoint: str) -> str | None:
    """The payload bucket for large payloads (docs/decisions/0034), created at ``endpoint`` if
    missing; None (every payload in its item, webhook bodies up to one item's limit) when the
    endpoint serves no S3 or ``--payload-bucket ''`` asked for none."""
    if not bucket:
        os.environ.pop("PAYLOAD_BUCKET", None)
        return None
    from botocore.exceptions import BotoCoreError, ClientError
    from ingest.adapters.payloads import PayloadObjects

    try:
        PayloadObjects(endpoint_url=endpoint).ensure_bucket(bucket)
    except (BotoCoreError, ClientError) as exc:
        print(
            f"no payload bucket at {endpoint} ({exc}): every payload stays in its item",
            file=sys.stderr,
            flush=True,
        )
        os.environ.pop("PAYLOAD_BUCKET", None)
        return None
    return bucket


def _start_forwarder(
    args: argparse.Namespace, endpoint: str, *, embedded: bool, stop: threading.Event
) -> threading.Thread | None:
    """``--forward-to``: ``ingest forward`` in a background thread. The embedded emulator's table
    gets a stream (as the table in AWS has), and a checkpoint that lives as long as its data."""
    if not args.forward_to:
        return None
    import tempfile

    from ingest.adapters.dynamodb import EventStore

    from ingest_tools.cli.forward import Forwarder, Target

    store = EventStore(args.table, endpoint_url=endpoint, read_timeout=30.0)
    if embedded:
        store.client.update_table(
            TableName=args.table,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
        checkpoint = Path(tempfile.mkdtemp(prefix="ingest-forward-")) / "checkpoint.json"
    else:
        checkpoint = Path(".ingest") / f"forward-{args.table}.json"
    forwarder = Forwarder(
        store=store,
        target=Target(args.forward_to, timeout=10.0, retry_base=0.5, retry_max=30.0),
        checkpoint_path=checkpoint,
        out=sys.stdout,
        err=sys.stderr,
        endpoint_url=endpoint,
    )
    thread = threading.Thread(target=forwarder.run, args=(stop,), name="forward", daemon=True)
    thread.start()
    return thread


def run(args: argparse.Namespace) -> int:
    from ingest_tools.local.emulator import EmbeddedDynamoDB, use_local_credentials

    emulator: EmbeddedDynamoDB | None = None
    if args.endpoint_url:
        endpoint = args.endpoint_url
        if endpoint.startswith(("http://127.", "http://localhost")):
            use_local_credentials()
    else:
        use_local_credentials()
        emulator = EmbeddedDynamoDB(port=args.emulator_port).start()
        endpoint = emulator.url
    _prepare_environment(args, endpoint)

    from ingest import runtime
    from ingest.adapters.dynamodb import EventStore
    from ingest.config import Settings
    from ingest.handler import lambda_handler

    from ingest_tools.local.gateway import LocalGateway

    settings = Settings.from_env()
    store = EventStore(
        settings.events_table,
        endpoint_url=endpoint,
        shards=settings.listing_shards,
        payload_bucket=_payload_bucket(settings.payload_bucket, endpoint),
    )
    store.ensure_table()
    state = runtime.Runtime(settings, store)
    if args.sources is not None:
        from ingest_tools.sources import read_sources_file

        state = runtime.Runtime(settings, store, _sources=read_sources_file(args.sources))
    runtime.reset(state)

    server = LocalGateway(args.host, args.port, lambda_handler, quiet=args.quiet)
    stopping = threading.Event()
    forwarding = _start_forwarder(args, endpoint, embedded=emulator is not None, stop=stopping)

    def stop(signum: int, _frame: FrameType | None) -> None:
        if not stopping.is_set():
            stopping.set()
            print(f"\nstopping ({signal.Signals(signum).name})", file=sys.stderr, flush=True)
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    url = server.url
    print(
        f"ingest serving on {url}  (table {args.table!r}, DynamoDB at {endpoint})\n\n"
        "Store an event:\n"
        f"  curl -sS -X POST {url}/events -H 'content-type: application/json' \\\n"
        '       -d \'{"type": "order.created", "id": "order-1", "data": {"total": 12.50}}\'\n\n'
        "See it:\n"
        f"  .venv/bin/ingest events list --endpoint-url {endpoint} --table {args.table}\n",
        flush=True,
    )
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        stopping.set()
        if forwarding is not None:
            forwarding.join(30)  # the delivery under way finishes, the checkpoint is saved
        server.server_close()
        if emulator is not None:
            emulator.stop()
    print("stopped", file=sys.stderr, flush=True)
    return 0
