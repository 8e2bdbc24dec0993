"""A stand-in Slack incoming webhook on 127.0.0.1 for tests: records what it is sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from revbook.delivery import notify

#: A marker in the webhook URL: tests grep outputs and logs for it.
SECRET = "SECRETMARKER123"


@dataclass
class Webhook:
    """A stand-in Slack webhook: records request bodies, answers with `status` after `delay_s`."""

    port: int
    status: int = 200
    delay_s: float = 0.0
    bodies: list[dict] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/services/T000/B000/{SECRET}"

    @property
    def env(self) -> dict[str, str]:
        return {notify.WEBHOOK_ENV: self.url}


@contextmanager
def serve() -> Iterator[Webhook]:
    """Run a stand-in webhook on 127.0.0.1 (a free port) for the duration of the block."""
    hook = Webhook(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length", 0))
            hook.paths.append(self.path)
            hook.headers.append(self.headers.get("Content-Type", ""))
            hook.bodies.append(json.loads(self.rfile.read(length)))
            if hook.delay_s:
                hook.release.wait(hook.delay_s)
            try:
                self.send_response(hook.status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if hook.status == 200 else b"error")
            except OSError:
                pass  # the client gave up (timeout test)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep test output quiet
            pass

    with local_server(Handler) as port:
        hook.port = port
        try:
            yield hook
        finally:
            hook.release.set()


@contextmanager
def local_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    """Serve `handler` on 127.0.0.1 (a free port, yielded) in a thread for the duration of the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
