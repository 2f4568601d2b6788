"""The one exception to "one commit at the boundary" (api/deps.get_session): ending the request's transaction early,
with what it has written so far, for the writes that must hold whatever happens next."""

from __future__ import annotations

from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session


def commit_early(session: Session) -> None:
    """Commit now rather than at the boundary, for one of these reasons:

    - before a wait (on Temporal, or on a password's slow hash): the workflow's activities write to the same
      database, SQLite lets one writer in at a time, and a row lock held through the wait queues every other
      request behind it;
    - what a refusal leaves on record (an audit entry, a failure counted), before the refusal is raised, which would
      otherwise roll it back.
    """
    session.commit()


async def end_transaction(session: Session) -> None:
    """`commit_early` from async code, before waiting on Temporal: the request's read transaction is closed, so that
    the workflow's activities, which write to the same database (SQLite: one writer at a time), never wait on it."""
    await run_in_threadpool(commit_early, session)
