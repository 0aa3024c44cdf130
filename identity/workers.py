"""gunicorn worker: kept-alive connections, each request served inline in the worker's loop.

gunicorn's sync worker closes the connection after every response, so every request pays a
TCP handshake and teardown on both ends; gthread keeps connections alive but hands every
request to a thread pool, whose hand-off and GIL switches cost more than the handshake saved
(measured on the token endpoint). This worker keeps gthread's event loop, keep-alive
bookkeeping, timeouts and graceful shutdown, and serves each ready request in the loop's own
thread: one request at a time per process, like the sync worker.

A new connection waits in the poller until its first bytes arrive, so an idle client costs a
file descriptor, not the worker. A client that stalls half-way through a request holds the
worker until it finishes, as with the sync worker: production runs behind a proxy that
buffers requests (README, "Production").
"""

from __future__ import annotations

import errno
import selectors
import socket
import time
from concurrent.futures import Future
from functools import partial
from typing import Any

from gunicorn.workers.gthread import DEFAULT_WORKER_DATA_TIMEOUT, TConn, ThreadWorker


class KeepAliveWorker(ThreadWorker):  # type: ignore[misc]
    """gthread's loop with the thread pool taken out (one request at a time per process)."""

    def enqueue_req(self, conn: TConn) -> None:
        done: Future[Any] = Future()
        done.set_result(self.handle(conn))
        self.finish_request(conn, done)

    def accept(self, listener: socket.socket) -> None:
        try:
            client, address = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = TConn(self.cfg, client, address, listener.getsockname())  # non-blocking
        # The first bytes get as long as gthread's worker threads wait for them (5 s).
        conn.timeout = time.monotonic() + DEFAULT_WORKER_DATA_TIMEOUT
        self.pending_conns.append(conn)
        self.poller.register(
            conn.sock, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn)
        )
