"""The administrator's commands: officers' accounts and delegations, portals' keys, the audit log.

    sonod officers create ward3.paikkandi --role ward_member --union paikkandi --ward 3
    sonod officers disable ward3.paikkandi
    sonod officers list --union paikkandi
    sonod officers delegate acting.paikkandi --as chairman --union paikkandi --from 2025-07-01 --to 2025-07-14
    sonod portal-keys rotate demo-portal
    sonod audit verify paikkandi

Exit codes: 0 done; 1 it could not be done (a name already taken, an audit chain with problems);
2 bad arguments (an unknown role, union, officer or portal key).
Passwords and portal keys are printed once and stored hashed. What these commands change in a union is
recorded in that union's audit log, by `cli:<login name>`.

`mount(app, audit_app)` adds them to the `sonod` command (infra/cli.py).
"""

from __future__ import annotations

import datetime as dt
import getpass
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from sonod import db

officers_app = typer.Typer(help="Officers' accounts and delegations.", no_args_is_help=True)
portal_keys_app = typer.Typer(help="Portals' API keys.", no_args_is_help=True)

# Delegations run over whole days of Bangladesh (UTC+6 all year).
DHAKA = dt.timezone(dt.timedelta(hours=6), "Asia/Dhaka")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,79}$")
KEY_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
MOBILE = re.compile(r"^(\+?88)?01[3-9][0-9]{8}$")
BAD_ARGUMENT, NOT_DONE = 2, 1


def mount(app: typer.Typer, audit_app: typer.Typer) -> None:
    app.add_typer(officers_app, name="officers")
    app.add_typer(portal_keys_app, name="portal-keys")
    audit_app.command("verify")(audit_verify)


def fail(message: str, code: int = NOT_DONE):
    from infra.cli import fail as cli_fail

    cli_fail(message, code)


@contextmanager
def database() -> Iterator[Session]:
    """A session on SONOD_DATABASE_URL, committed when the command ends without failing."""
    from sqlalchemy import exc as sa_exc

    from infra.cli import _database_error, load_settings
    from sonod.db import make_engine, make_session_factory

    settings = load_settings()
    engine = make_engine(settings.db_url)
    try:
        with make_session_factory(engine)() as session:
            try:
                yield session
                session.commit()
            except (sa_exc.SQLAlchemyError, OSError) as exc:
                session.rollback()
                fail(str(_database_error(settings.db_url, exc)))
    finally:
        engine.dispose()


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"[:80]
    except (KeyError, OSError):  # no login name in a bare container
        return "cli"


def record(session: Session, union: str | None, action: str, target: str, detail: dict | None = None) -> None:
    from sonod import audit

    if union:
        audit.record(session, union=union, actor=cli_actor(), role="operator", action=action, target=target,
                     detail=detail or {})


def get_union(session: Session, slug: str) -> db.Union:
    from sonod import db

    union = session.get(db.Union, slug.strip().lower())
    if union is None:
        fail(f"unknown union {slug!r} (see `sonod officers list` or the seed)", BAD_ARGUMENT)
    return union


def get_officer(session: Session, username: str) -> db.User:
    from sqlalchemy import select

    from sonod import db

    user = session.scalar(select(db.User).where(db.User.username == username.strip().lower()))
    if user is None:
        fail(f"unknown officer {username!r}", BAD_ARGUMENT)
    return user


# ---------------------------------------------------------------------------------------------------------------
# officers


@officers_app.command("create")
def officers_create(
    username: Annotated[str, typer.Argument(help="The log-in name, e.g. ward3.paikkandi.")],
    role: Annotated[str, typer.Option("--role", help="udc, ward_member, secretary, chairman, acting_chairman, "
                                                     "administrator, upazila_admin or operator.")],
    union: Annotated[str | None, typer.Option(
        "--union", help="The union (for upazila-wide roles: any union of the upazila).")] = None,
    ward: Annotated[int | None, typer.Option("--ward", help="The ward (1-9) of a ward member.")] = None,
    name_bn: Annotated[str, typer.Option("--name-bn", help="The name in Bengali, as certificates print it.")] = "",
    name_en: Annotated[str, typer.Option("--name-en", help="The name in English.")] = "",
    mobile: Annotated[str | None, typer.Option("--mobile", help="01XXXXXXXXX, for reminders by SMS.")] = None,
) -> None:
    """Create an officer; prints a generated password and, for roles that need it, the TOTP enrolment URI."""
    import pyotp

    from sonod import db
    from sonod.domain import Role
    from sonod.security import hash_password

    username = username.strip().lower()
    if not USERNAME.match(username):
        fail(f"{username!r} is not a valid username: 3-80 of a-z, 0-9, '.', '_', '-'", BAD_ARGUMENT)
    officer_roles = [r for r in Role if r is not Role.PORTAL]
    try:
        kind = Role(role.strip().lower())
    except ValueError:
        kind = None
    if kind not in officer_roles:
        fail(f"unknown role {role!r}; one of: {', '.join(officer_roles)}", BAD_ARGUMENT)
    upazila_wide = kind in (Role.ADMINISTRATOR, Role.UPAZILA_ADMIN)
    if kind is not Role.OPERATOR and union is None:
        fail(f"a {kind.value} needs --union", BAD_ARGUMENT)
    if kind is Role.OPERATOR and union is not None:
        fail("an operator serves every union: leave out --union", BAD_ARGUMENT)
    if (kind is Role.WARD_MEMBER) != (ward is not None):
        fail("--ward is for ward members, and a ward member needs it", BAD_ARGUMENT)
    if ward is not None and not 1 <= ward <= 9:
        fail(f"--ward must be 1 to 9, not {ward}", BAD_ARGUMENT)
    if mobile is not None and not MOBILE.match(mobile.strip()):
        fail(f"--mobile {mobile!r} is not a Bangladeshi mobile number (01XXXXXXXXX)", BAD_ARGUMENT)

    password = secrets.token_urlsafe(12)
    totp_secret = pyotp.random_base32() if kind.needs_totp else None
    with database() as session:
        row = get_union(session, union) if union is not None else None
        if session.query(db.User.id).filter(db.User.username == username).first() is not None:
            fail(f"an officer named {username} already exists")
        user = db.User(
            username=username, password_hash=hash_password(password), role=kind.value,
            union_slug=None if upazila_wide or row is None else row.slug,
            upazila_slug=row.upazila_slug if row is not None else None, ward_no=ward,
            name_bn=name_bn.strip(), name_en=name_en.strip() or username,
            mobile=mobile.strip() if mobile else None, totp_secret=totp_secret,
        )
        session.add(user)
        session.flush()
        record(session, user.union_slug, "officer.create", username, {"role": kind.value, "ward": ward})
    where = f"union {row.slug}" if user.union_slug else f"upazila {row.upazila_slug}" if row else "every union"
    typer.echo(f"created {username}: {kind.value}, {where}" + (f", ward {ward}" if ward else ""))
    typer.echo(f"password: {password}")
    if totp_secret:
        typer.echo(f"totp: {pyotp.TOTP(totp_secret).provisioning_uri(name=username, issuer_name='sonod')}")
    typer.echo("(shown once: hand them to the officer now)")


@officers_app.command("disable")
def officers_disable(username: Annotated[str, typer.Argument(help="The officer's log-in name.")]) -> None:
    """Disable an officer's account and end every session they have: their tokens stop working at once."""
    from sqlalchemy import update

    from sonod import db

    with database() as session:
        user = get_officer(session, username)
        user.active = False
        ended = session.execute(update(db.Session).where(db.Session.user_id == user.id,
                                                         db.Session.revoked_at.is_(None))
                                .values(revoked_at=db.utcnow())).rowcount
        record(session, user.union_slug, "officer.disable", user.username, {"sessions_ended": ended})
    typer.echo(f"disabled {user.username}; ended {ended} session(s)")


@officers_app.command("list")
def officers_list(union: Annotated[str | None, typer.Option("--union", help="Only this union's officers.")] = None,
                  ) -> None:
    """Every officer: username, role, union (or upazila), ward, state."""
    from sqlalchemy import or_, select

    from sonod import db

    with database() as session:
        q = select(db.User).order_by(db.User.union_slug, db.User.role, db.User.username)
        if union is not None:
            row = get_union(session, union)
            q = q.where(or_(db.User.union_slug == row.slug,
                            (db.User.union_slug.is_(None)) & (db.User.upazila_slug == row.upazila_slug)))
        users = session.scalars(q).all()
        now = db.utcnow()
        for u in users:
            locked = u.locked_until is not None and u.locked_until > now
            state = "disabled" if not u.active else f"locked until {u.locked_until:%Y-%m-%d %H:%M}Z" if locked \
                else "active"
            where = u.union_slug or (f"upazila:{u.upazila_slug}" if u.upazila_slug else "*")
            typer.echo(f"{u.username}\t{u.role}\t{where}\t{u.ward_no or '-'}\t{state}")


@officers_app.command("delegate")
def officers_delegate(
    username: Annotated[str, typer.Argument(help="The acting chairman (or administrator) who will act.")],
    acts_as: Annotated[str, typer.Option("--as", help="The role acted for: chairman.")],
    union: Annotated[str, typer.Option("--union", help="The union where the delegation holds.")],
    start: Annotated[dt.datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First day (YYYY-MM-DD).")],
    end: Annotated[dt.datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day (YYYY-MM-DD).")],
) -> None:
    """Let an acting chairman decide the chairman's steps, whole days in Bangladesh time, both days included."""
    from sonod import db
    from sonod.domain import STANDS_IN_FOR_CHAIRMAN, Role

    if acts_as.strip().lower() != Role.CHAIRMAN.value:
        fail(f"--as {acts_as!r}: only the chairman's role is delegated", BAD_ARGUMENT)
    if end.date() < start.date():
        fail(f"--to {end:%Y-%m-%d} is before --from {start:%Y-%m-%d}", BAD_ARGUMENT)
    starts_at = dt.datetime.combine(start.date(), dt.time(), DHAKA)
    ends_at = dt.datetime.combine(end.date() + dt.timedelta(days=1), dt.time(), DHAKA)
    with database() as session:
        user = get_officer(session, username)
        row = get_union(session, union)
        if Role(user.role) not in STANDS_IN_FOR_CHAIRMAN:
            fail(f"{user.username} is a {user.role}; only an acting chairman or an administrator acts for the "
                 "chairman", BAD_ARGUMENT)
        if user.union_slug not in (None, row.slug) or user.upazila_slug != row.upazila_slug:
            fail(f"{user.username} does not serve the union {row.slug}", BAD_ARGUMENT)
        if not user.active:
            fail(f"{user.username} is disabled")
        session.add(db.Delegation(user_id=user.id, union_slug=row.slug, acts_as=Role.CHAIRMAN.value,
                                  starts_at=starts_at, ends_at=ends_at))
        record(session, row.slug, "officer.delegate", user.username,
               {"acts_as": Role.CHAIRMAN.value, "from": f"{start:%Y-%m-%d}", "to": f"{end:%Y-%m-%d}"})
    typer.echo(f"{user.username} acts for the chairman of {row.slug} from {start:%Y-%m-%d} to {end:%Y-%m-%d} "
               "(Bangladesh time, both days included)")


# ---------------------------------------------------------------------------------------------------------------
# portal keys


def new_portal_key() -> str:
    return f"sk_{secrets.token_urlsafe(32)}"


def _key_name(name: str) -> str:
    name = name.strip().lower()
    if not KEY_NAME.match(name):
        fail(f"{name!r} is not a valid portal name: a-z, 0-9, '.', '_', '-'", BAD_ARGUMENT)
    return name


@portal_keys_app.command("create")
def portal_keys_create(name: Annotated[str, typer.Argument(help="The portal's name, e.g. ekpay.")]) -> None:
    """Give a new portal its API key (printed once)."""
    from sqlalchemy import select

    from sonod import db
    from sonod.seed import hash_api_key

    name = _key_name(name)
    key = new_portal_key()
    with database() as session:
        if session.scalar(select(db.PortalKey.id).where(db.PortalKey.name == name)) is not None:
            fail(f"a portal named {name} already has a key; rotate it with `sonod portal-keys rotate {name}`")
        session.add(db.PortalKey(name=name, key_hash=hash_api_key(key)))
    typer.echo(f"new API key of the portal {name} (shown once; send it as X-API-Key):")
    typer.echo(key)


@portal_keys_app.command("rotate")
def portal_keys_rotate(name: Annotated[str, typer.Argument(help="The portal's name, e.g. demo-portal.")]) -> None:
    """Replace a portal's API key: the new one is printed once, the old one stops working at once."""
    from sqlalchemy import select

    from sonod import db
    from sonod.seed import hash_api_key

    name = _key_name(name)
    key = new_portal_key()
    with database() as session:
        row = session.scalar(select(db.PortalKey).where(db.PortalKey.name == name))
        if row is None:
            fail(f"unknown portal {name!r}; create its key with `sonod portal-keys create {name}`", BAD_ARGUMENT)
        row.key_hash, row.active = hash_api_key(key), True
    typer.echo(f"new API key of the portal {name} (shown once; the old key no longer works):")
    typer.echo(key)


@portal_keys_app.command("disable")
def portal_keys_disable(name: Annotated[str, typer.Argument(help="The portal's name.")]) -> None:
    """Refuse a portal's key from now on."""
    from sqlalchemy import select

    from sonod import db

    name = _key_name(name)
    with database() as session:
        row = session.scalar(select(db.PortalKey).where(db.PortalKey.name == name))
        if row is None:
            fail(f"unknown portal {name!r}", BAD_ARGUMENT)
        row.active = False
    typer.echo(f"the key of the portal {name} is disabled")


@portal_keys_app.command("list")
def portal_keys_list() -> None:
    """Every portal: name, state, created at (never the key: only its hash is stored)."""
    from sqlalchemy import select

    from sonod import db

    with database() as session:
        for row in session.scalars(select(db.PortalKey).order_by(db.PortalKey.name)):
            typer.echo(f"{row.name}\t{'active' if row.active else 'disabled'}\t"
                       f"{row.created_at.isoformat(timespec='seconds')}")


# ---------------------------------------------------------------------------------------------------------------
# audit


def audit_verify(union: Annotated[str, typer.Argument(help="The union's slug.")]) -> None:
    """Check the union's hash-chained audit log: exit 0 when intact, 1 with each problem listed."""
    from sonod import audit

    with database() as session:
        row = get_union(session, union)
        problems = audit.verify(session, row.slug)
        entries = audit.count(session, row.slug)
    if problems:
        for problem in problems:
            typer.echo(f"{row.slug}: {problem}")
        fail(f"the audit log of {row.slug} has {len(problems)} problem(s) in {entries} entries")
    typer.echo(f"the audit log of {row.slug} is intact: {entries} entries")
