"""An instant DynamoDB stand-in: every call succeeds at once, so timings are the handler's own."""

from __future__ import annotations

from http.server import ThreadingHTTPServer

from scripts.harness import QuietHandler


class Stub(QuietHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # one small answer per request: never wait for delayed ACKs

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        target = self.headers.get("x-amz-target", "")
        body = b'{"UnprocessedItems":{}}' if target.endswith("BatchWriteItem") else b"{}"
        self.send_body(200, body, "application/x-amz-json-1.0")


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
