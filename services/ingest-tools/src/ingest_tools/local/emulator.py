"""The embedded DynamoDB emulator (moto's server, in this process, on 127.0.0.1).

Its socket is bound before it is served, so a port already in use is an ``OSError`` at once
(moto's ``ThreadedMotoServer`` binds in its thread and waits for ever when that fails). It
answers DynamoDB's API only: anything else (a browser, or an event sent to the emulator's port
instead of the API's) gets a JSON 404 that says where the API is, never moto's HTML 500.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from werkzeug.serving import BaseWSGIServer

#: The port the emulator prefers (DynamoDB Local's): another free one when it is taken.
DEFAULT_PORT = 8000
#: The requests it serves carry one of these ``X-Amz-Target`` prefixes (DynamoDB, its streams).
_API_TARGETS = ("DynamoDB_", "DynamoDBStreams_")
#: And S3's, for the payload bucket (docs/decisions/0034): signed for the service ``s3``.
_S3_SCOPE = "/s3/aws4_request"

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def use_local_credentials() -> None:
    """Emulators accept any credentials; never let a local run pick up real ones by accident."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def is_address_in_use(exc: OSError) -> bool:
    return exc.errno in (errno.EADDRINUSE, errno.EACCES)


class DynamoDBOnly:
    """WSGI middleware: DynamoDB's API through to moto, a JSON 404 for everything else."""

    def __init__(self, app: WsgiApp, hint: Callable[[], str]) -> None:
        self.app = app
        self.hint = hint

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        signed_for = str(environ.get("HTTP_AUTHORIZATION", ""))
        if target.startswith(_API_TARGETS) or _S3_SCOPE in signed_for:
            return self.app(environ, start_response)
        body = json.dumps(
            {"error": {"code": "not_found", "message": self.hint(), "details": []}}
        ).encode()
        start_response(
            "404 Not Found",
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]


class EmbeddedDynamoDB:
    """moto's DynamoDB on ``host:port`` (0: a free port), served from a daemon thread.

    ``api_url`` is named in the answer to requests that are not DynamoDB's.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, api_url: str = "") -> None:
        self.host = host
        self.port = port
        self.api_url = api_url
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _hint(self) -> str:
        where = f" at {self.api_url}" if self.api_url else ""
        return (
            f"this is the DynamoDB emulator of ingest serve, for table commands only; "
            f"send events and webhooks to the API{where}"
        )

    def start(self) -> EmbeddedDynamoDB:
        """Bind and serve; ``OSError`` when the port cannot be bound (see is_address_in_use)."""
        import logging

        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # its access log is noise here
        app = DynamoDBOnly(DomainDispatcherApplication(create_backend_app), self._hint)
        # Bound here, so that a port in use raises; werkzeug would print and exit its thread.
        with socket.create_server((self.host, self.port), backlog=128) as sock:
            server = make_server(
                self.host,
                self.port,
                app,
                threaded=True,
                request_handler=MotoRequestHandler,
                fd=sock.fileno(),
            )
        self._server = server
        self.port = int(server.server_address[1])
        self._thread = threading.Thread(target=server.serve_forever, name="dynamodb", daemon=True)
        self._thread.start()
        return self

    def items(self, table: str, region: str) -> list[dict[str, Any]] | None:
        """Every item of ``table`` as boto3's client returns items, read from the emulator's
        memory: a scan through its API takes seconds per thousand items, this milliseconds.
        ``None`` when moto's internals are not what this expects."""
        try:
            from moto.core.models import DEFAULT_ACCOUNT_ID
            from moto.dynamodb.models import dynamodb_backends

            stored = dynamodb_backends[DEFAULT_ACCOUNT_ID][region].tables[table]
            for _attempt in range(10):  # the server's threads may add an item meanwhile
                try:
                    return [
                        {name: _plain(value) for name, value in item.attrs.items()}
                        for item in stored.all_items()
                    ]
                except RuntimeError:  # "dictionary changed size during iteration"
                    continue
        except (ImportError, KeyError, AttributeError, TypeError):
            return None
        return None

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(10)


def _plain(value: Any) -> dict[str, Any]:
    """A moto ``DynamoType`` as ``{type: value}``, as boto3's client returns attribute values
    (binary values as bytes, or as the base64 text moto may keep)."""
    inner = value.value
    if isinstance(inner, dict):
        inner = {name: _plain(member) for name, member in inner.items()}
    elif value.type == "L":
        inner = [_plain(member) for member in inner]
    return {value.type: inner}
