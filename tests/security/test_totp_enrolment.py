"""An officer whose role now needs two factors (operators and upazila administrators, since issue 12), or who lost
the phone, is enrolled by the administrator's command; the old secret and every session stop working."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlparse

import pyotp
from sqlalchemy import select

from sonod import audit, db
from tests.test_admin_cli import url  # noqa: F401 - the module's migrated, seeded database
from tests.unions_kit import audit_rows, cli, database


def test_enrol_totp_gives_a_new_secret_once_and_ends_the_sessions(url):  # noqa: F811
    with database(url) as session:
        uno = session.scalar(select(db.User).where(db.User.username == "uno.gopalganj-sadar"))
        old = uno.totp_secret
        session.add(db.Session(id="s-uno", user_id=uno.id, expires_at=db.utcnow() + dt.timedelta(hours=1)))
    r = cli(url, "officers", "enrol-totp", "uno.gopalganj-sadar")
    assert r.exit_code == 0, r.output
    uri = next(line.split(" ", 1)[1] for line in r.output.splitlines() if line.startswith("totp: "))
    secret = parse_qs(urlparse(uri).query)["secret"][0]
    with database(url) as session:
        uno = session.scalar(select(db.User).where(db.User.username == "uno.gopalganj-sadar"))
        assert uno.totp_secret == secret != old
        assert session.get(db.Session, "s-uno").revoked_at is not None
    assert pyotp.TOTP(secret).now()
    assert [e.action for e in audit_rows(url, audit.DEPLOYMENT)][-1] == "officer.enrol_totp"
    assert cli(url, "officers", "enrol-totp", "nobody.gobra").exit_code == 2
