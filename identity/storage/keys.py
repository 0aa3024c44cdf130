"""The key ring in the database: every instance sharing it signs with the same active key."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, select, update

from identity.crypto import keys as keycrypto
from identity.crypto.keyring import KeyRecord
from identity.models import SigningKey
from identity.models.base import db


class DatabaseKeyStore:
    def __init__(self, passphrase: str) -> None:
        self._passphrase = passphrase
        self._decrypted: dict[str, KeyRecord] = {}  # decrypting costs a KDF run: once per kid

    def __repr__(self) -> str:
        return "DatabaseKeyStore(***)"

    def load(self) -> list[KeyRecord]:
        records = self._records()
        db.session.commit()  # end the read transaction; nothing is held open
        return records

    def _records(self) -> list[KeyRecord]:
        rows = db.session.scalars(select(SigningKey)).all()
        records = []
        for row in rows:
            cached = self._decrypted.get(row.kid)
            if cached is None or cached.activates_at != row.activates_at:
                private = keycrypto.decrypt_private_key(row.private_pem, self._passphrase)
                cached = KeyRecord(
                    kid=row.kid,
                    alg=row.alg,
                    activates_at=row.activates_at,
                    created_at=row.created_at,
                    public_jwk=json.loads(row.public_jwk),
                    private_key=private,
                    public_key=private.public_key(),
                )
                self._decrypted[row.kid] = cached
            records.append(cached)
        return records

    def add(
        self,
        bits: int,
        activates_at: datetime,
        now: datetime,
        check: Callable[[list[KeyRecord]], None] | None = None,
        alg: str = keycrypto.RS256,
        before_commit: Callable[[str], None] | None = None,
    ) -> str:
        """Add an ``alg`` key (``bits`` for RSA); ``check`` sees the ring as committed, under a
        lock, and may refuse.

        The lock is a no-op UPDATE of every key row: row locks on PostgreSQL, the write lock
        on SQLite. A second rotation (another worker, another instance) waits, then sees the
        first one's key, so two requests cannot both pass the check.
        """
        key = keycrypto.generate_key(alg, bits)  # slow: before the lock is taken
        jwk = keycrypto.public_jwk(key.public_key())
        try:
            if check is not None:
                db.session.execute(update(SigningKey).values(activates_at=SigningKey.activates_at))
                check(self._records())
        except BaseException:
            db.session.rollback()
            raise
        db.session.add(
            SigningKey(
                kid=jwk["kid"],
                alg=alg,
                public_jwk=json.dumps(jwk),
                private_pem=keycrypto.encrypt_private_key(key, self._passphrase),
                created_at=now,
                activates_at=activates_at,
            )
        )
        if before_commit is not None:
            before_commit(jwk["kid"])  # e.g. the audit event, in the same transaction
        db.session.commit()
        return jwk["kid"]

    def set_activation(self, kid: str, activates_at: datetime) -> None:
        row = db.session.get(SigningKey, kid)
        if row is None:
            db.session.rollback()  # nothing changed: drop what the caller added (its audit event)
            return
        row.activates_at = activates_at
        db.session.commit()

    def remove(self, kids: list[str]) -> None:
        if kids:
            db.session.execute(delete(SigningKey).where(SigningKey.kid.in_(kids)))
            db.session.commit()
            for kid in kids:
                self._decrypted.pop(kid, None)
