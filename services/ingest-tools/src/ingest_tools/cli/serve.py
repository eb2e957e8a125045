"""``ingest serve``: the real Lambda handler behind a local API Gateway, with DynamoDB emulated.

What it stores is kept between runs in a data directory (.ingest/ by default; --ephemeral keeps
nothing), and the table commands (ingest events ...) find this server there without flags. The
webhook sources file is reloaded when it changes; --dev-sources adds one source per supported
provider, with generated secrets that it prints. Ctrl-C or SIGTERM stops it and saves the table.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from ingest_tools.cli.common import (
    DEFAULT_TABLE,
    TABLE_VARIABLES,
    add_command,
    add_table_option,
    http_url,
    is_loopback,
    positive_int,
    table_name,
)

if TYPE_CHECKING:
    from ingest.domain.webhooks.config import SourcesDocument

    from ingest_tools.local.datadir import DataDir, Keeper
    from ingest_tools.local.dev_sources import DevSource
    from ingest_tools.local.emulator import EmbeddedDynamoDB
    from ingest_tools.local.gateway import LocalGateway
    from ingest_tools.local.live_sources import LiveSources

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class ServeError(Exception):
    """Why ``serve`` cannot start: one line for the user, exit status 1."""


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 0 to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port number (0 to 65535)")
    return value


def register(commands: Any) -> None:
    from ingest_tools.local.datadir import DATA_DIR_VARIABLE, DEFAULT_DATA_DIR
    from ingest_tools.local.emulator import DEFAULT_PORT

    parser = add_command(commands, "serve", "serve the API locally", __doc__)
    parser.add_argument(
        "--host", default="127.0.0.1", help="address the API listens on (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=3000,
        help="port of the API (default: %(default)s; 0 picks a free one)",
    )
    add_table_option(parser)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"where the table is kept between runs (default: ${DATA_DIR_VARIABLE}, else "
        f"{DEFAULT_DATA_DIR}/ in the current directory)",
    )
    parser.add_argument(
        "--ephemeral",
        action="store_true",
        help="keep nothing: start with an empty table, write no data directory",
    )
    parser.add_argument(
        "--sources",
        type=Path,
        default=None,
        metavar="FILE",
        help="webhook sources file, JSON or YAML, reloaded when it changes (default: $SOURCES, "
        "a file's path or the document itself)",
    )
    parser.add_argument(
        "--dev-sources",
        action="store_true",
        help="add one webhook source per supported provider (/webhooks/github, "
        "/webhooks/stripe, ...) with generated secrets, printed and kept in the data directory",
    )
    parser.add_argument(
        "--endpoint-url",
        type=http_url,
        default=None,
        metavar="URL",
        help="store in this DynamoDB-compatible endpoint (the table is created if missing) "
        "instead of the embedded emulator",
    )
    parser.add_argument(
        "--emulator-port",
        type=port_number,
        default=None,
        metavar="PORT",
        help=f"port of the embedded DynamoDB emulator (default: {DEFAULT_PORT}, else a free "
        "one when it is taken; 0 picks a free one)",
    )
    parser.add_argument(
        "--retention-days",
        type=positive_int,
        default=None,
        metavar="DAYS",
        help="keep stored events this many days (default: $RETENTION_DAYS, else the service's)",
    )
    parser.add_argument(
        "--forward-to",
        default=None,
        type=http_url,
        metavar="URL",
        help="also POST every newly stored event to this URL, as ingest forward --to does "
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
        "--emit-metrics",
        action="store_true",
        help="print EMF metrics as Lambda would, each request's at once "
        "(METRICS_FLUSH_SECONDS=60: success metrics held a minute, as in Lambda)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    session = Session(args)
    try:
        return session.serve()
    except ServeError as exc:
        print(f"ingest serve: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        session.close()


class Dispatch:
    """The gateway's handler: the Lambda handler once it is imported, noting every write."""

    def __init__(self) -> None:
        self.handler: Handler | None = None
        self.on_write: Callable[[], None] | None = None

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        assert self.handler is not None
        result = self.handler(event, context)
        if self.on_write is not None and event["requestContext"]["http"]["method"] == "POST":
            self.on_write()
        return result


@dataclass
class Session:
    """One run of ``serve``: what it started, stopped in reverse order by :meth:`close`."""

    args: argparse.Namespace
    data: DataDir | None = None
    gateway: LocalGateway | None = None
    emulator: EmbeddedDynamoDB | None = None
    kept: Keeper | None = None
    stopping: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    restored: int = 0
    endpoint: str = ""
    live: LiveSources | None = None
    generated: list[DevSource] = field(default_factory=list)
    dev_folder: Path | None = None
    started: bool = False
    notes: list[str] = field(default_factory=list)
    _temporary: Any = None

    # -- starting ----------------------------------------------------------------------------

    def serve(self) -> int:
        args = self.args
        args.table = args.table or _table_from_environment()
        sources_path, inline = _sources_option(args)
        if sources_path is not None:
            from ingest_tools.local.live_sources import SourcesError, read_document

            try:
                read_document(sources_path)  # fail before anything starts
            except SourcesError as exc:
                raise ServeError(str(exc)) from None
        self._claim_data_dir()
        dispatch = Dispatch()
        self.gateway = _listen(args, dispatch)
        self.endpoint = self._start_storage()
        _prepare_environment(args, self.endpoint)

        from ingest.adapters.dynamodb import EventStore
        from ingest.config import Settings
        from ingest.handler import lambda_handler

        settings = Settings.from_env()
        store = EventStore(
            settings.events_table,
            endpoint_url=self.endpoint,
            shards=settings.listing_shards,
        )
        self._create_table(store, settings.payload_bucket)
        self._sources(args, sources_path, inline, settings, store)
        dispatch.handler = lambda_handler
        if self.kept is not None:
            dispatch.on_write = self.kept.touch
        forwarding = _start_forwarder(
            args,
            self.endpoint,
            embedded=self.emulator is not None,
            stop=self.stopping,
            folder=self.data.path if self.data is not None else None,
        )
        if forwarding is not None:
            self.threads.append(forwarding)
        self._on_signals()
        if self.data is not None:
            from ingest_tools.local.datadir import ServeState

            self.data.publish(ServeState(self.gateway.url, self.endpoint, args.table, os.getpid()))
        print(self._banner(), flush=True)
        self.started = True
        self.gateway.serve_forever(poll_interval=0.2)
        return 0

    def _claim_data_dir(self) -> None:
        if self.args.ephemeral:
            return
        from ingest_tools.local.datadir import DataDir, DataDirError, default_data_dir

        try:
            self.data = DataDir(self.args.data_dir or default_data_dir()).claim()
        except DataDirError as exc:
            raise ServeError(str(exc)) from None

    def _start_storage(self) -> str:
        """The DynamoDB endpoint: the one given, or the embedded emulator's, started."""
        from ingest_tools.local.emulator import (
            DEFAULT_PORT,
            EmbeddedDynamoDB,
            is_address_in_use,
            use_local_credentials,
        )

        args = self.args
        if args.endpoint_url:
            if is_loopback(args.endpoint_url):
                use_local_credentials()
            return str(args.endpoint_url)
        use_local_credentials()
        api = self.gateway.url if self.gateway is not None else ""
        wanted = DEFAULT_PORT if args.emulator_port is None else args.emulator_port
        try:
            self.emulator = EmbeddedDynamoDB(port=wanted, api_url=api).start()
        except OSError as exc:
            if args.emulator_port is not None or not is_address_in_use(exc):
                raise ServeError(
                    f"cannot start the DynamoDB emulator on 127.0.0.1:{wanted}: "
                    f"{_reason(exc)} (give another --emulator-port, or 0 for a free one)"
                ) from None
            self.emulator = EmbeddedDynamoDB(port=0, api_url=api).start()
            self.notes.append(f"port {wanted} was taken")
        return self.emulator.url

    def _create_table(self, store: Any, bucket: str | None) -> None:
        from botocore.exceptions import BotoCoreError, ClientError
        from ingest.adapters.dynamodb import StorageBroken, StorageUnavailable

        from ingest_tools.local.datadir import DataDirError

        try:
            store.ensure_table()
            store.payload_bucket = _payload_bucket(bucket, self.endpoint)
            if self.emulator is not None and self.data is not None:
                self._keep(store)
        except DataDirError as exc:
            raise ServeError(str(exc)) from None
        except (BotoCoreError, ClientError, StorageUnavailable, StorageBroken) as exc:
            raise ServeError(
                f"cannot use table {self.args.table!r} at {self.endpoint}: {exc}"
            ) from None

    def _keep(self, store: Any) -> None:
        """Restore the emulator's table (and payload bucket) from the data directory, and keep
        them there while they change."""
        from ingest.adapters.dynamodb import EventStore

        from ingest_tools.local.datadir import Keeper, scanned, wire_form

        assert self.data is not None
        table, bucket = self.args.table, store.payload_bucket
        # Patient, with the SDK's retries: a scan of the whole table is not the request path.
        client = EventStore(table, endpoint_url=self.endpoint, read_timeout=30.0).client
        snapshot = self.data.snapshot(table)
        self.restored = snapshot.restore(client, table)
        objects = self.data.bucket(bucket) if bucket else None
        if objects is not None:
            s3 = _s3_client(self.endpoint)
            objects.restore(s3, bucket)

        def save() -> int:
            if objects is not None:
                objects.save(s3, bucket)
            assert self.emulator is not None
            held = self.emulator.items(table, client.meta.region_name)
            items = scanned(client, table) if held is None else map(wire_form, held)
            return snapshot.save(table, items)

        self.kept = Keeper(save, _say).start()

    def _sources(
        self, args: argparse.Namespace, path: Path | None, inline: str, settings: Any, store: Any
    ) -> None:
        from ingest import runtime

        from ingest_tools.local.live_sources import LiveSources, SourcesError, inline_document

        generated = self._dev_sources() if args.dev_sources else None

        def apply(document: SourcesDocument) -> None:
            runtime.reset(runtime.Runtime(settings, store, _sources=document))

        try:
            if inline.startswith("{"):
                from ingest_tools.local.live_sources import merged

                apply(merged(generated, inline_document(inline)))
            elif inline:  # ssm:NAME, read by the handler as in AWS
                if generated:
                    raise ServeError("--dev-sources cannot be added to sources kept in SSM")
                runtime.reset(runtime.Runtime(settings, store))
            else:
                self.live = LiveSources(path, generated, apply, sys.stderr)
                self.live.load()
        except SourcesError as exc:
            raise ServeError(str(exc)) from None
        if self.live is not None:
            watcher = self.live.watch(self.stopping)
            if watcher is not None:
                self.threads.append(watcher)

    def _dev_sources(self) -> dict[str, Any]:
        from ingest_tools.local.dev_sources import dev_sources

        if self.data is not None:
            folder = self.data.path
        else:
            import tempfile

            self._temporary = tempfile.TemporaryDirectory(prefix="ingest-dev-sources-")
            folder = Path(self._temporary.name)
        assert self.gateway is not None
        self.dev_folder = folder
        try:
            document, self.generated = dev_sources(folder, self.gateway.url)
        except (OSError, ValueError) as exc:
            raise ServeError(f"--dev-sources: {exc}") from None
        return document

    def _on_signals(self) -> None:
        gateway = self.gateway
        assert gateway is not None

        def stop(signum: int, _frame: FrameType | None) -> None:
            if not self.stopping.is_set():
                self.stopping.set()
                print(f"\nstopping ({signal.Signals(signum).name})", file=sys.stderr, flush=True)
                threading.Thread(target=gateway.shutdown, daemon=True).start()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)

    # -- stopping ----------------------------------------------------------------------------

    def close(self) -> None:
        """Stop what was started, save the table, and give the data directory back."""
        self.stopping.set()
        for thread in self.threads:
            thread.join(30)  # a forward under way finishes, its checkpoint is saved
        if self.gateway is not None:
            self.gateway.server_close()
        if self.kept is not None:
            saved = self.kept.close()
            if saved is not None and self.started:
                _say(f"kept {saved} items in {self.data.path if self.data else ''}")
        if self.emulator is not None:
            self.emulator.stop()
        if self.data is not None:
            self.data.release()
        if self._temporary is not None:
            self._temporary.cleanup()
        if self.started:
            _say("stopped")

    # -- the banner --------------------------------------------------------------------------

    def _banner(self) -> str:
        args = self.args
        assert self.gateway is not None
        url = self.gateway.url
        lines = [f"ingest serve: the API on {url}  (Ctrl-C stops it)"]
        where = "the DynamoDB emulator" if self.emulator is not None else "DynamoDB"
        notes = "; ".join(["table commands only", *self.notes])
        lines.append(f"  table    {args.table!r} in {where} at {self.endpoint} ({notes})")
        if self.data is not None:
            kept = "kept between runs" if self.emulator is not None else "this server's state"
            plural = "" if self.restored == 1 else "s"
            restored = f", {self.restored} item{plural} restored" if self.restored else ""
            lines.append(
                f"  data     {self.data.path}/ ({kept}{restored}; --ephemeral keeps nothing)"
            )
        else:
            lines.append("  data     none (--ephemeral: the table is gone when this stops)")
        lines += self._sources_lines(url)
        lines += [
            "",
            "Store an event:",
            f"  curl -sS -X POST {url}/events -H 'content-type: application/json' \\",
            '       -d \'{"type": "order.created", "id": "order-1", "data": {"total": 12.50}}\'',
            "",
            "See it:",
            f"  .venv/bin/ingest events list{self._table_flags()}",
        ]
        return "\n".join(lines) + "\n"

    def _sources_lines(self, url: str) -> list[str]:
        live = self.live
        if live is None:
            spec = os.environ.get("SOURCES", "")
            return [f"  sources  {spec if spec.startswith('ssm:') else '$SOURCES'}"]
        if not live.names():
            return ["  sources  none (--sources FILE or --dev-sources to receive webhooks)"]
        origin = []
        if live.path is not None:
            origin.append(f"{live.path} (reloaded when it changes)")
        document = self.dev_folder / "dev-sources.json" if self.dev_folder else None
        if document is not None:
            origin.append(f"--dev-sources (in {document})")
        lines = [f"  sources  {', '.join(origin)}"]
        generated = {source.name: source for source in self.generated}
        urls = {name: f"{url}/webhooks/{name}" for name in live.names()}
        width = max(len(text) for text in urls.values())
        for name, address in urls.items():
            line = f"    {address:<{width}}"
            if name in generated and name not in live.from_file:
                line += f"  {generated[name].describe()}"
            lines.append(line.rstrip())
        if document is not None:
            lines.append(
                f"  send a signed sample: .venv/bin/ingest trigger github.push --sources {document}"
                " (ingest trigger --list names them all)"
            )
        return lines

    def _table_flags(self) -> str:
        """The flags ``ingest events`` needs to find this server's table."""
        from ingest_tools.local.datadir import default_data_dir

        args = self.args
        flags = ""
        found = self.data is not None and self.data.path.resolve() == default_data_dir().resolve()
        if not found:
            flags += f" --endpoint-url {self.endpoint}"
        if args.table != DEFAULT_TABLE:
            flags += f" --table {args.table}"
        return flags


# -- helpers ---------------------------------------------------------------------------------


def _reason(exc: OSError) -> str:
    """An OS error's reason alone (socket.create_server adds the address to strerror)."""
    return (exc.strerror or str(exc)).split(" (while attempting", 1)[0]


def _s3_client(endpoint: str) -> Any:
    from ingest.adapters.payloads import PayloadObjects

    return PayloadObjects(endpoint_url=endpoint, read_timeout=30.0).client


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _table_from_environment() -> str:
    for variable in TABLE_VARIABLES:
        value = os.environ.get(variable)
        if value:
            try:
                return table_name(value)
            except argparse.ArgumentTypeError as exc:
                raise ServeError(f"${variable}: {exc}") from None
    return DEFAULT_TABLE


def _sources_option(args: argparse.Namespace) -> tuple[Path | None, str]:
    """The sources file to read, or the document ``$SOURCES`` holds itself."""
    from ingest_tools.local.live_sources import sources_from_environment

    if args.sources is not None:
        os.environ.pop("SOURCES", None)  # the file is the document: never the variable too
        return args.sources, ""
    path, inline = sources_from_environment()
    if path is not None:
        os.environ.pop("SOURCES", None)
    return path, inline


def _listen(args: argparse.Namespace, handler: Handler) -> LocalGateway:
    from ingest_tools.local.emulator import is_address_in_use
    from ingest_tools.local.gateway import LocalGateway

    try:
        return LocalGateway(args.host, args.port, handler, quiet=args.quiet)
    except OSError as exc:
        hint = ""
        if is_address_in_use(exc):
            hint = " (is ingest serve already running? choose another --port, or PORT=... make run)"
        raise ServeError(
            f"cannot listen on {args.host}:{args.port}: {_reason(exc)}{hint}"
        ) from None
    except ValueError as exc:  # an INGEST_LOCAL_* limit that is not a positive number
        raise ServeError(str(exc)) from None


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
    args: argparse.Namespace,
    endpoint: str,
    *,
    embedded: bool,
    stop: threading.Event,
    folder: Path | None,
) -> threading.Thread | None:
    """``--forward-to``: ``ingest forward`` in a background thread. The embedded emulator's table
    gets a stream (as the table in AWS has), and a checkpoint that lives as long as its data
    (another endpoint's: in the data directory ``folder``)."""
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
    if embedded or folder is None:
        checkpoint = Path(tempfile.mkdtemp(prefix="ingest-forward-")) / "checkpoint.json"
    else:
        checkpoint = folder / f"forward-{args.table}.json"
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
