"""The timeline of an application as people read it: what happened, who did it (name and office), when, what they
decided and the reason they gave, from the workflow's events (their `kind`, `office` and `params`) and the registry
(officers' names, a revocation). The words are the templates' (partials/status.html `timeline`); no internal name
(`sonod`, `outbox`, `portal:...`) reaches a page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sonod import db
from sonod.domain import Role

# what the applicant's side is not shown: the messages sent, and which NID field did not match
OFFICERS_ONLY = frozenset({"notified", "resent"})
OFFICERS_ONLY_PARAMS = frozenset({"failure", "channels", "template"})


@dataclass
class Entry:
    at: str
    status: str
    kind: str | None  # None: an event recorded before events had kinds; its English note is shown
    note: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    by: str = "sonod"  # officer, applicant, portal or sonod
    name_bn: str | None = None
    name_en: str | None = None
    office: str | None = None


def entries(session: Session, row: db.Application, certificate: db.Certificate | None, *,
            for_officers: bool) -> list[Entry]:
    events = [e for e in row.events or [] if for_officers or e.get("kind") not in OFFICERS_ONLY]
    revoked = certificate if certificate is not None and certificate.revoked_at is not None else None
    usernames = {e["actor"] for e in events if e.get("office")} | ({revoked.revoked_by} if revoked else set())
    people = {u.username: u for u in session.execute(
        select(db.User.username, db.User.name_bn, db.User.name_en).where(db.User.username.in_(usernames)))}
    out = [entry(e, people, row.submitted_by, for_officers) for e in events]
    if revoked is not None and revoked.revoked_at is not None:  # tested again: mypy does not carry it over
        out.append(person(Entry(at=revoked.revoked_at.isoformat(), status=row.status, kind="revoked",
                                params={"reason": revoked.revoke_reason or ""}),
                          people.get(revoked.revoked_by), Role.CHAIRMAN.value))
    return out


def entry(event: dict, people: dict, submitted_by: str, for_officers: bool) -> Entry:
    params = {k: v for k, v in (event.get("params") or {}).items()
              if for_officers or k not in OFFICERS_ONLY_PARAMS}
    made = Entry(at=event["at"], status=event["status"], kind=event.get("kind"), note=event.get("note", ""),
                 params=params)
    if event.get("office"):
        return person(made, people.get(event["actor"]), event["office"])
    if event["actor"] in ("citizen", submitted_by) and event.get("kind") in ("received", "amended", "cancelled"):
        made.by = "portal" if event["actor"].startswith("portal:") else "applicant"
    return made


def person(made: Entry, user, office: str) -> Entry:
    made.by, made.office = "officer", office
    if user is not None:
        made.name_bn, made.name_en = user.name_bn or None, user.name_en or None
    return made
