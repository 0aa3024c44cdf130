"""Faults on loopback, without touching the servers other test runs share: a TCP proxy that can
be cut, silenced and restored, and a private Redis that can restart empty."""

from __future__ import annotations

import socket
import subprocess
import threading
import time

import redis


class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``target``.

    ``cut()`` resets every connection and refuses new ones (a crashed server, a closed port);
    ``silence()`` keeps every connection open and accepts new ones but forwards nothing either
    way (a partition: the peer's kernel still acknowledges, nothing ever answers);
    ``restore()`` ends either (silenced connections are reset: their streams lost data).
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._silent = threading.Event()
        self.port = self._free_port()
        self.restore()

    @staticmethod
    def _free_port() -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    def restore(self) -> None:
        if self._silent.is_set():
            self._silent.clear()
            self._reset_connections()
        if self._listener is not None:
            return
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def silence(self) -> None:
        self._silent.set()

    def cut(self) -> None:
        """Stop listening and reset every open connection (connection refused from now on)."""
        self._silent.clear()
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() on Linux
            except OSError:
                pass
            listener.close()
        self._reset_connections()

    close = cut

    def _reset_connections(self) -> None:
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if self._silent.is_set():  # accepted, then never answered
                with self._lock:
                    self._conns.append(client)
                threading.Thread(target=self._pipe, args=(client, None), daemon=True).start()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=3)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket | None) -> None:
        try:
            while data := source.recv(65536):
                if sink is not None and not self._silent.is_set():
                    sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    if sock is not None:
                        sock.close()
                except OSError:
                    pass


class RedisServer:
    """A private ``redis-server`` without persistence on a free loopback port.

    ``restart()`` brings it back empty, as a Redis without persistence comes back after a crash
    or a ``docker compose restart``; the machine's own Redis is never touched."""

    def __init__(self) -> None:
        self.port = TcpProxy._free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self._process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            process.wait(timeout=10)

    def restart(self) -> None:
        """Stop and start again: every key is gone."""
        self.stop()
        self.start()
