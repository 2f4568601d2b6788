"""Each union's Ed25519 signing keys, sealed under the master key in the database.

The public halves are also kept in memory (`known`), for verification's hot path: loaded all at once by `reload`,
one by one by `lookup`. A key's public half and `not_before` never change; its `not_after` is set once, when a
rotation retires it (api/verification.py reloads them when that happens)."""

from __future__ import annotations

import base64
import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sonod import db
from sonod.signing import TrustedKey, new_signing_key, open_private_key, seal_private_key


class KeyStore:
    def __init__(self, sessions: sessionmaker | None, master_key_b64: str) -> None:
        """`sessions` may be None where every call is given its session (migrations, seed, bootstrap)."""
        self.sessions = sessions
        self.master_key = base64.b64decode(master_key_b64)
        self._opened: dict[str, bytes] = {}
        self._known: dict[str, TrustedKey] = {}  # public keys by kid, as last read

    def _own(self) -> sessionmaker:
        if self.sessions is None:
            raise RuntimeError("this KeyStore has no sessions of its own: pass the session")
        return self.sessions

    def ensure(self, session: Session, union: str, now: dt.datetime) -> db.SigningKey:
        """The union's current key, made if it has none (a union made by `sonod admin add-union` has one already)."""
        current = session.scalars(
            select(db.SigningKey).where(db.SigningKey.union_slug == union, db.SigningKey.not_after.is_(None))
            .order_by(db.SigningKey.not_before)
        ).first()
        return current or self._add(session, union, now)

    def signing_key(self, union: str, now: dt.datetime, session: Session | None = None) -> tuple[str, bytes]:
        """(kid, private key) of the union's current key; read in the caller's session when given."""
        if session is not None:
            row = self.ensure(session, union, now)
            kid, sealed = row.kid, row.sealed_private_key
        else:
            with self._own().begin() as own:
                row = self.ensure(own, union, now)
                kid, sealed = row.kid, row.sealed_private_key
        if kid not in self._opened:
            self._opened[kid] = open_private_key(sealed, self.master_key, kid)
        return kid, self._opened[kid]

    def rotate(self, union: str, now: dt.datetime, *, actor: str = "system") -> tuple[str | None, str]:
        """Retire the current key (it keeps verifying what it signed) and make a new one; recorded in the union's
        audit log, by `actor`, in the same transaction.

        The hand-over is at the next whole second: a verifier compares the payload's `iat`, in whole seconds,
        with the keys' validity, so what the old key signed in the second of the rotation stays valid."""
        at = now.replace(microsecond=0) + dt.timedelta(seconds=1) if now.microsecond else now
        with self._own().begin() as session:
            if session.get(db.Union, union) is None:
                raise LookupError(f"no union {union!r}")
            old = self.ensure(session, union, now)
            old.not_after = at
            new = self._add(session, union, at)
            from sonod import audit  # audit's checkpoints use this module's keys

            audit.record(session, union=union, actor=actor, role="operator", action="key.rotate", target=new.kid,
                         detail={"retired": old.kid, "from": at.isoformat()})
            return old.kid, new.kid

    def trusted_keys(self, session: Session | None = None) -> list[TrustedKey]:
        """Every union's public keys; read in the caller's session when given."""
        if session is not None:
            return [_trusted(row) for row in session.scalars(select(db.SigningKey).order_by(db.SigningKey.kid))]
        with self._own()() as own:
            return self.trusted_keys(own)

    def lookup(self, kid: str, session: Session | None = None) -> TrustedKey | None:
        """The key by kid, from the database (and kept in memory); in the caller's session when given."""
        if session is not None:
            row = session.get(db.SigningKey, kid)
        else:
            with self._own()() as own:
                row = own.get(db.SigningKey, kid)
        if row is None:
            return None
        key = self._known[kid] = _trusted(row)
        return key

    def known(self, kid: str) -> TrustedKey | None:
        """The key by kid from memory, as `reload` or `lookup` last read it; None if neither has seen it."""
        return self._known.get(kid)

    def reload(self, keys: list[TrustedKey] | None = None) -> None:
        """Every union's public keys into memory: these, or all of them read from the database."""
        self._known = {key.kid: key for key in (self.trusted_keys() if keys is None else keys)}

    def _add(self, session: Session, union: str, now: dt.datetime) -> db.SigningKey:
        key = new_signing_key(union, now)
        row = db.SigningKey(kid=key.kid, union_slug=union, public_key=key.public_raw,
                            sealed_private_key=seal_private_key(key.private_raw, self.master_key, key.kid),
                            not_before=now)
        session.add(row)
        session.flush()
        return row


def _trusted(row: db.SigningKey) -> TrustedKey:
    return TrustedKey(kid=row.kid, union=row.union_slug, public_raw=row.public_key,
                      not_before=row.not_before, not_after=row.not_after)
