"""A file beside the SQLite database that every revocation replaces.

With SQLite every worker and CLI process runs on one host and opens one file, so a revocation
can announce itself cheaply: the writer replaces ``<database>-revocations`` after its commit,
and a reader's ``stat()`` (about a microsecond) tells whether anything was revoked since the
store last said "not revoked". Customer tokens, which must be refused everywhere from the
moment of logout (docs/customers-and-inbox.md), then cost no database read per request on SQLite.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

Version = tuple[int, int] | None


class RevocationStamp:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"RevocationStamp({str(self.path)!r})"

    @classmethod
    def for_database(cls, database_url: str) -> RevocationStamp | None:
        """The stamp of a SQLite file database; None for any other database (or in-memory)."""
        prefix = "sqlite:///"
        if not database_url.startswith(prefix) or ":memory:" in database_url:
            return None
        path = database_url.removeprefix(prefix).partition("?")[0]
        return cls(Path(path + "-revocations")) if path else None

    def version(self) -> Version:
        """Changes whenever ``touch`` ran (a new inode each time); None before the first."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns

    def touch(self) -> None:
        """Call after the revocation is committed: readers that see the change re-ask."""
        temp = self.path.with_name(f"{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_hex(8).encode())
        finally:
            os.close(fd)
        os.replace(temp, self.path)  # atomic: a reader sees the old or the new file
