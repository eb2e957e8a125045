"""The webhook sources ``ingest serve`` answers with, reloaded when their file changes.

They come from ``--dev-sources`` (one per provider, see :mod:`ingest_tools.local.dev_sources`)
and a file (``--sources FILE``, or ``$SOURCES`` naming one); a source in the file replaces the
generated one of the same name. The file is checked twice a second: a valid new document takes
effect for the next request, an invalid one is reported in one line and the previous document
stays in force.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ingest.domain.webhooks.config import SourcesDocument

SOURCES_VARIABLE = "SOURCES"
_SSM = "ssm:"


class SourcesError(Exception):
    """A sources document that cannot be used; the message is one line and names no secret."""


def one_line(text: str) -> str:
    return "; ".join(part.strip() for part in str(text).splitlines() if part.strip())


def read_document(path: Path) -> SourcesDocument:
    """The sources document in ``path``: :class:`SourcesError` (one line) when it cannot be read
    or is not a valid document."""
    from ingest_tools.sources import read_sources_file

    try:
        return read_sources_file(path)
    except FileNotFoundError:
        raise SourcesError(f"sources file {path}: no such file") from None
    except OSError as exc:
        raise SourcesError(f"sources file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SourcesError(f"sources file {path}: not UTF-8 text") from None
    except (ValueError, RecursionError) as exc:  # SourcesDocumentError is a ValueError
        raise SourcesError(f"sources file {path}: {one_line(str(exc))}") from None


def sources_from_environment(env: Mapping[str, str] | None = None) -> tuple[Path | None, str]:
    """What ``$SOURCES`` holds: a file's path, or the document itself (JSON or ``ssm:NAME``,
    left to the handler as in AWS). ``(None, "")`` when unset."""
    value = (os.environ if env is None else env).get(SOURCES_VARIABLE, "").strip()
    if not value or value.startswith(("{", _SSM)):
        return None, value
    return Path(value), ""


def inline_document(text: str) -> SourcesDocument:
    """``$SOURCES`` given as a JSON document, validated now (as the handler would later)."""
    from ingest_tools.sources import parse_sources_text

    try:
        return parse_sources_text(text)
    except (ValueError, RecursionError) as exc:
        raise SourcesError(f"$SOURCES: {one_line(str(exc))}") from None


def merged(
    generated: Mapping[str, Any] | None, document: SourcesDocument | None
) -> SourcesDocument:
    """The generated sources with the file's on top (a file's source replaces its namesake)."""
    from ingest.domain.webhooks.config import SourcesDocument, validate_sources_document

    base = validate_sources_document(generated) if generated else SourcesDocument()
    if document is None:
        return base
    return SourcesDocument(sources={**base.sources, **document.sources})


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


class LiveSources:
    """The file's document, merged with the generated sources; :meth:`watch` reloads it."""

    def __init__(
        self,
        path: Path | None,
        generated: Mapping[str, Any] | None,
        apply: Callable[[SourcesDocument], None],
        out: TextIO,
    ) -> None:
        self.path = path
        self.generated = generated
        self.apply = apply
        self.out = out
        self.current = merged(generated, None)
        self.from_file: frozenset[str] = frozenset()  # the names the file defines
        self._seen = _signature(path) if path is not None else None
        self._reported: str | None = None

    def load(self) -> SourcesDocument:
        """Read the file (if any) and apply the result; :class:`SourcesError` when it is bad."""
        document = read_document(self.path) if self.path is not None else None
        self.current = merged(self.generated, document)
        self.from_file = frozenset(document.sources) if document is not None else frozenset()
        self.apply(self.current)
        return self.current

    def names(self) -> list[str]:
        return list(self.current.sources)

    def check(self) -> None:
        """Reload when the file changed since it was last read (one line either way)."""
        assert self.path is not None
        signature = _signature(self.path)
        if signature == self._seen:
            return
        self._seen = signature
        try:
            self.load()
        except SourcesError as exc:
            message = f"{exc}; still serving the previous sources"
            if message != self._reported:  # once per problem, not twice a second
                self._reported = message
                print(message, file=self.out, flush=True)
            return
        self._reported = None
        listed = ", ".join(self.names()) or "none"
        print(f"sources reloaded from {self.path}: {listed}", file=self.out, flush=True)

    def watch(self, stop: threading.Event, interval: float = 0.5) -> threading.Thread | None:
        """Check the file every ``interval`` seconds until ``stop`` (no file: no thread)."""
        if self.path is None:
            return None

        def loop() -> None:
            while not stop.wait(interval):
                self.check()

        thread = threading.Thread(target=loop, name="sources", daemon=True)
        thread.start()
        return thread
