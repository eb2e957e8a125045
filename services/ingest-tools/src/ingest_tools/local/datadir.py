"""The data directory of ``ingest serve``: what it keeps between runs, and how others find it.

``.ingest/`` in the current directory by default (``$INGEST_DATA_DIR`` or ``--data-dir``):

- ``serve.lock``: held (``flock``) while a ``serve`` uses the directory, so a second one is told
  who already does instead of sharing its files;
- ``serve.json``: where the running ``serve`` answers (API URL, DynamoDB endpoint, table): the
  table commands read it when no endpoint is given (see :func:`running_serve`);
- ``tables/<table>.jsonl``: the embedded emulator's table, saved while it changes and on the
  way out, restored on the next start (moto keeps its state in memory only);
- ``buckets/<bucket>/``: the payload bucket's objects (docs/decisions/0034), kept likewise;
- ``forward-<table>.json``: ``serve --forward-to``'s checkpoint, with ``--endpoint-url``;
- ``dev-sources.json`` and ``keys/``: the sources ``--dev-sources`` generated, kept so that their
  secrets stay the same from one run to the next.

Standard library only: the table commands import it to find the local endpoint.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DATA_DIR_VARIABLE = "INGEST_DATA_DIR"
DEFAULT_DATA_DIR = Path(".ingest")
_STATE = "serve.json"
_LOCK = "serve.lock"
_SNAPSHOT_FORMAT = "ingest-table-snapshot/1"
_BATCH = 25  # BatchWriteItem's limit


def default_data_dir() -> Path:
    """``$INGEST_DATA_DIR``, else ``.ingest`` in the current directory."""
    return Path(os.environ.get(DATA_DIR_VARIABLE) or DEFAULT_DATA_DIR)


class DataDirError(Exception):
    """The data directory cannot be used; the message is one line for the user."""


@dataclass(frozen=True)
class ServeState:
    """Where a running ``ingest serve`` answers."""

    url: str
    endpoint: str
    table: str
    pid: int


def _in_use(lock_path: Path) -> bool:
    """Whether a ``serve`` holds the directory's lock (a crashed one holds nothing)."""
    try:
        with lock_path.open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False
    except OSError:
        return False


def _read_state(folder: Path) -> ServeState | None:
    try:
        document = json.loads((folder / _STATE).read_text("utf-8"))
        return ServeState(
            url=str(document["url"]),
            endpoint=str(document["endpoint"]),
            table=str(document["table"]),
            pid=int(document["pid"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def running_serve(folder: Path | None = None) -> ServeState | None:
    """The ``ingest serve`` running from ``folder`` (default: :func:`default_data_dir`), if any."""
    folder = default_data_dir() if folder is None else folder
    if not (folder / _LOCK).exists() or not _in_use(folder / _LOCK):
        return None
    return _read_state(folder)


class DataDir:
    """A data directory claimed by this process for as long as it serves."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock: IO[str] | None = None

    def claim(self) -> DataDir:
        """Create the directory and hold its lock; :class:`DataDirError` when another ``serve``
        holds it or it cannot be created."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            handle = (self.path / _LOCK).open("a")
        except OSError as exc:
            raise DataDirError(
                f"cannot use the data directory {self.path}: {exc.strerror}"
            ) from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            other = _read_state(self.path)
            who = f" (pid {other.pid}, {other.url})" if other else ""
            raise DataDirError(
                f"another ingest serve uses the data directory {self.path}{who}: stop it, "
                "or give this one --data-dir DIR or --ephemeral"
            ) from None
        self._lock = handle
        return self

    def publish(self, state: ServeState) -> None:
        """Tell the table commands where this ``serve`` answers."""
        write_atomically(self.path / _STATE, json.dumps(asdict(state), indent=2) + "\n")

    def release(self) -> None:
        with contextlib.suppress(OSError):
            (self.path / _STATE).unlink(missing_ok=True)
        if self._lock is not None:
            self._lock.close()  # closing releases the flock
            self._lock = None

    def snapshot(self, table: str) -> TableSnapshot:
        return TableSnapshot(self.path / "tables" / f"{table}.jsonl")

    def bucket(self, name: str) -> BucketSnapshot:
        return BucketSnapshot(self.path / "buckets" / name)


def write_atomically(path: Path, text: str, mode: int = 0o644) -> None:
    """``text`` into ``path`` whole or not at all (a kill mid-write leaves the old file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


# --------------------------------------------------------------------------------------------
# The table, kept as JSON Lines of items in DynamoDB's wire form (binary values in base64)


def _base64(value: bytes | str) -> str:
    return base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else value


def _encode(value: dict[str, Any]) -> dict[str, Any]:
    (kind, inner), *_ = value.items()
    if kind == "B":
        return {"B": _base64(inner)}
    if kind == "BS":
        return {"BS": [_base64(item) for item in inner]}
    if kind == "M":
        return {"M": {name: _encode(item) for name, item in inner.items()}}
    if kind == "L":
        return {"L": [_encode(item) for item in inner]}
    return {kind: inner}


def wire_form(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item as boto3's client returns it, in DynamoDB's wire form (binary values in base64)."""
    return {name: _encode(dict(value)) for name, value in item.items()}


def _decode(value: dict[str, Any]) -> dict[str, Any]:
    (kind, inner), *_ = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(item) for item in inner]}
    if kind == "M":
        return {"M": {name: _decode(item) for name, item in inner.items()}}
    if kind == "L":
        return {"L": [_decode(item) for item in inner]}
    return {kind: inner}


def scanned(client: DynamoDBClient, table: str) -> Iterator[dict[str, Any]]:
    """Every item of ``table``, read through the API, in DynamoDB's wire form."""
    pages = client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    for page in pages:
        for item in page.get("Items", []):
            yield wire_form(item)


class TableSnapshot:
    """One table's items in a file: :meth:`save` replaces it whole, :meth:`restore` loads it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def save(self, table: str, items: Iterable[dict[str, Any]]) -> int:
        """``items`` (in DynamoDB's wire form: see :func:`scanned`) into the file, replacing it
        atomically; how many."""
        with self._lock:
            lines = [json.dumps({"format": _SNAPSHOT_FORMAT, "table": table})]
            lines += [json.dumps(item, separators=(",", ":")) for item in items]
            write_atomically(self.path, "\n".join(lines) + "\n", 0o600)
            return len(lines) - 1

    def restore(self, client: DynamoDBClient, table: str) -> int:
        """The file's items into ``table`` (0 without a file); :class:`DataDirError` when the
        file cannot be read."""
        try:
            text = self.path.read_text("utf-8")
        except FileNotFoundError:
            return 0
        except OSError as exc:
            raise DataDirError(f"cannot read {self.path}: {exc.strerror}") from None
        lines = text.splitlines()
        items: list[dict[str, Any]] = []
        for number, line in enumerate(lines, start=1):
            try:
                document = json.loads(line)
                if number == 1:
                    if document.get("format") != _SNAPSHOT_FORMAT:
                        raise ValueError
                elif line.strip():
                    items.append({name: _decode(value) for name, value in document.items()})
            except (ValueError, AttributeError, TypeError):
                raise DataDirError(
                    f"cannot restore {self.path}: line {number} is not what ingest serve writes; "
                    "move the file away, or start with --ephemeral"
                ) from None
        for start in range(0, len(items), _BATCH):
            requests: Any = [
                {"PutRequest": {"Item": item}} for item in items[start : start + _BATCH]
            ]
            pending: Any = {table: requests}
            while pending:
                answer = client.batch_write_item(RequestItems=pending)
                pending = answer.get("UnprocessedItems") or {}
        return len(items)


class BucketSnapshot:
    """The payload bucket's objects as files under ``folder`` (docs/decisions/0034): the keys are
    content addresses, so an object is written once and never changes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def save(self, client: Any, bucket: str) -> int:
        """Every object not yet kept; how many objects the bucket holds."""
        count = 0
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for entry in page.get("Contents", []):
                count += 1
                path = self.folder / entry["Key"]
                if path.resolve().is_relative_to(self.folder.resolve()) and not path.exists():
                    body = client.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
                    path.parent.mkdir(parents=True, exist_ok=True)
                    partial = path.with_name(f".{path.name}.partial")
                    partial.write_bytes(body)
                    os.replace(partial, path)
        return count

    def restore(self, client: Any, bucket: str) -> int:
        count = 0
        if not self.folder.is_dir():
            return 0
        for path in sorted(self.folder.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                key = path.relative_to(self.folder).as_posix()
                client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
                count += 1
        return count


class Keeper:
    """Saves what the emulator holds while it changes: at most every ``interval`` seconds after a
    write (:meth:`touch`), and once more by :meth:`close`. ``save`` returns how many items."""

    def __init__(
        self, save: Callable[[], int], report: Callable[[str], None], interval: float = 2.0
    ) -> None:
        self._save = save
        self.report = report
        self.interval = interval
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="keep-table", daemon=True)

    def start(self) -> Keeper:
        self._thread.start()
        return self

    def touch(self) -> None:
        self._dirty.set()

    def save(self) -> int | None:
        """Save now; the number of items, or ``None`` when it failed (reported in one line)."""
        self._dirty.clear()
        try:
            return self._save()
        except Exception as exc:
            self.report(f"cannot save the local data: {exc}")
            return None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            if self._dirty.is_set():
                self.save()

    def close(self) -> int | None:
        self._stop.set()
        self._thread.join()
        return self.save()
