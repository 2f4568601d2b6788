"""The administrator's commands: unions, and officers' accounts and delegations (portals' keys: portal_keys_cli).

    sonod admin add-union patgati --name-bn ... --name-en Patgati ...
    sonod admin import-upazila upazila.csv
    sonod officers create ward3.paikkandi --role ward_member --union paikkandi --ward 3
    sonod officers disable ward3.paikkandi
    sonod officers list --union paikkandi
    sonod officers delegate acting.paikkandi --as chairman --union paikkandi --from 2025-07-01 --to 2025-07-14

Exit codes: 0 done; 1 it could not be done (a name already taken, a disabled officer);
2 bad arguments (an unknown role, union, officer or portal key).
Passwords and portal keys are printed once and stored hashed. What these commands change in a union is
recorded in that union's audit log, by `cli:<login name>`.

infra/cli.py mounts `admin_app` and `officers_app` on the `sonod` command. Imports marked
`# lazy:` are slow ones that `--help` does not need (infra/cli_common.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pyotp
import typer

from infra.cli_common import BAD_ARGUMENT, database, fail, load_settings, record
from sonod.domain import STANDS_IN_FOR_CHAIRMAN, Role

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from sonod import db
    from sonod.bootstrap import Overrides

admin_app = typer.Typer(help="Unions: one at a time, or a whole upazila from a CSV file.", no_args_is_help=True)
officers_app = typer.Typer(help="Officers' accounts and delegations.", no_args_is_help=True)

# Delegations run over whole days of Bangladesh (UTC+6 all year).
DHAKA = dt.timezone(dt.timedelta(hours=6), "Asia/Dhaka")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,79}$")
MOBILE = re.compile(r"^(\+?88)?01[3-9][0-9]{8}$")


def get_union(session: Session, slug: str) -> db.Union:
    from sonod import db  # lazy: SQLAlchemy

    union = session.get(db.Union, slug.strip().lower())
    if union is None:
        fail(f"unknown union {slug!r} (see `sonod officers list` or the seed)", BAD_ARGUMENT)
    return union


def get_officer(session: Session, username: str) -> db.User:
    from sqlalchemy import select  # lazy: SQLAlchemy

    from sonod import db  # lazy: SQLAlchemy

    user = session.scalar(select(db.User).where(db.User.username == username.strip().lower()))
    if user is None:
        fail(f"unknown officer {username!r}", BAD_ARGUMENT)
    return user


# ---------------------------------------------------------------------------------------------------------------
# officers


class BadField(ValueError):
    """A value that cannot be used: `field` names it (an option of a command, a column of the CSV import)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


OPTIONS = {"username": "the username", "role": "--role", "union": "--union", "ward": "--ward", "mobile": "--mobile"}
COLUMNS = {"username": "the username", "role": "the role", "union": "a union", "ward": "a ward",
           "mobile": "the mobile"}


def officer_role(username: str, role: str, has_union: bool, ward: int | None, mobile: str | None,
                 names: dict[str, str] = OPTIONS) -> Role:
    """The officer's role once the account's values fit together; raises BadField. `names` says how the message
    names the other values: by option or by column."""
    if not USERNAME.match(username):
        raise BadField("username", f"{username!r} is not a valid username: 3-80 of a-z, 0-9, '.', '_', '-'")
    officer_roles = [r for r in Role if r is not Role.PORTAL]
    try:
        kind = Role(role.strip().lower())
    except ValueError:
        kind = None
    if kind not in officer_roles:
        raise BadField("role", f"unknown role {role!r}; one of: {', '.join(officer_roles)}")
    if kind is not Role.OPERATOR and not has_union:
        raise BadField("union", f"a {kind.value} needs {names['union']}")
    if kind is Role.OPERATOR and has_union:
        raise BadField("union", f"an operator serves every union: leave out {names['union']}")
    if (kind is Role.WARD_MEMBER) != (ward is not None):
        raise BadField("ward", f"{names['ward']} is for ward members, and a ward member needs it")
    if ward is not None and not 1 <= ward <= 9:
        raise BadField("ward", f"{names['ward']} must be 1 to 9, not {ward}")
    if mobile and not MOBILE.match(mobile.strip()):
        raise BadField("mobile", f"{names['mobile']} {mobile!r} is not a Bangladeshi mobile number (01XXXXXXXXX)")
    return kind


def add_officer(session: Session, username: str, kind: Role, union: str | None, upazila: str | None,
                ward: int | None, name_bn: str, name_en: str, mobile: str | None,
                password: str | None = None) -> tuple[str | None, str | None]:
    """The account, audited; returns (the generated password or None when one was given, the TOTP secret)."""
    from sonod import db  # lazy: SQLAlchemy
    from sonod.security import hash_password  # lazy: argon2 and PyJWT

    generated = None if password else secrets.token_urlsafe(12)
    totp_secret = pyotp.random_base32() if kind.needs_totp else None
    upazila_wide = kind in (Role.ADMINISTRATOR, Role.UPAZILA_ADMIN)
    user = db.User(
        username=username, password_hash=hash_password(password or generated), role=kind.value,
        union_slug=None if upazila_wide else union, upazila_slug=upazila, ward_no=ward,
        name_bn=name_bn.strip(), name_en=name_en.strip() or username,
        mobile=mobile.strip() if mobile else None, totp_secret=totp_secret,
    )
    session.add(user)
    session.flush()
    record(session, user.union_slug, "officer.create", username,
           {"role": kind.value, "ward": ward, "upazila": upazila, "password": "given" if password else "generated"})
    return generated, totp_secret


def show_credentials(username: str, password: str | None, totp_secret: str | None) -> None:
    if password:
        typer.echo(f"password: {password}")
    if totp_secret:
        typer.echo(f"totp: {pyotp.TOTP(totp_secret).provisioning_uri(name=username, issuer_name='sonod')}")


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
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password (12 characters or more) from the first line of stdin "
                                 "instead of generating one.")] = False,
) -> None:
    """Create an officer; prints a generated password (unless one is given) and, for roles that need it, the TOTP
    enrolment URI."""
    from sonod import db  # lazy: SQLAlchemy

    username = username.strip().lower()
    try:
        kind = officer_role(username, role, union is not None, ward, mobile)
    except BadField as exc:
        fail(str(exc), BAD_ARGUMENT)
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if len(password) < 12:
            fail("--password-stdin: the password must have 12 characters or more", BAD_ARGUMENT)
    with database() as session:
        row = get_union(session, union) if union is not None else None
        if session.query(db.User.id).filter(db.User.username == username).first() is not None:
            fail(f"an officer named {username} already exists")
        generated, totp_secret = add_officer(session, username, kind, row.slug if row else None,
                                             row.upazila_slug if row else None, ward, name_bn, name_en, mobile,
                                             password)
    where = f"union {row.slug}" if row and kind.value not in ("administrator", "upazila_admin") \
        else f"upazila {row.upazila_slug}" if row else "every union"
    typer.echo(f"created {username}: {kind.value}, {where}" + (f", ward {ward}" if ward else ""))
    show_credentials(username, generated, totp_secret)
    typer.echo("(shown once: hand them to the officer now)")


def end_sessions(session: Session, user: db.User) -> int:
    """Revoke every open session of the officer: their tokens stop working at once. Returns how many."""
    from sqlalchemy import update  # lazy: SQLAlchemy

    from sonod import db  # lazy: SQLAlchemy

    return session.execute(update(db.Session).where(db.Session.user_id == user.id, db.Session.revoked_at.is_(None))
                           .values(revoked_at=db.utcnow())).rowcount


@officers_app.command("disable")
def officers_disable(username: Annotated[str, typer.Argument(help="The officer's log-in name.")]) -> None:
    """Disable an officer's account and end every session they have: their tokens stop working at once."""
    with database() as session:
        user = get_officer(session, username)
        user.active = False
        ended = end_sessions(session, user)
        record(session, user.union_slug, "officer.disable", user.username, {"sessions_ended": ended})
    typer.echo(f"disabled {user.username}; ended {ended} session(s)")


@officers_app.command("enrol-totp")
def officers_enrol_totp(username: Annotated[str, typer.Argument(help="The officer's log-in name.")]) -> None:
    """Give an officer a new TOTP secret (a lost phone, or a role that now needs two factors), print its otpauth
    URI once, and end every session they have."""
    with database() as session:
        user = get_officer(session, username)
        user.totp_secret, user.totp_last_step = pyotp.random_base32(), None
        ended = end_sessions(session, user)
        record(session, user.union_slug, "officer.enrol_totp", user.username, {"sessions_ended": ended})
        secret = user.totp_secret
    show_credentials(username, None, secret)
    typer.echo("(shown once: the officer scans it into an authenticator app now)")


@officers_app.command("list")
def officers_list(union: Annotated[str | None, typer.Option("--union", help="Only this union's officers.")] = None,
                  ) -> None:
    """Every officer: username, role, union (or upazila), ward, state."""
    from sqlalchemy import or_, select  # lazy: SQLAlchemy

    from sonod import db  # lazy: SQLAlchemy

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
    from sonod import db  # lazy: SQLAlchemy

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
# unions


def overrides(fees: list[str], deadlines: list[str], chains: list[str], disabled: list[str],
              valid: list[str] | None = None) -> Overrides:
    """The `--fee TYPE.LINE=AMOUNT`, `--deadline TYPE=DAYS`, `--chain TYPE=ROLE,...`, `--disable TYPE` and
    `--valid TYPE=DAYS` options; exit 2 naming the first one that does not fit the catalogue."""
    from sonod.bootstrap import Overrides, RuleError  # lazy: SQLAlchemy

    o = Overrides()
    try:
        for value in fees:
            target, _, amount = value.partition("=")
            type_code, _, line = target.partition(".")
            if not amount or not line or not re.fullmatch(r"-?[0-9]+", amount.strip()):
                raise RuleError(f"--fee {value}", "expected TYPE.LINE=AMOUNT, e.g. trade_licence.licence_fee=600")
            o.fee(type_code.strip(), line.strip(), int(amount))
        for option, values, days_of in (("--deadline", deadlines, o.deadline), ("--valid", valid or [], o.validity)):
            for value in values:
                type_code, _, days = value.partition("=")
                if not re.fullmatch(r"-?[0-9]+", days.strip()):
                    raise RuleError(f"{option} {value}", "expected TYPE=DAYS, e.g. warish=10")
                days_of(type_code.strip(), int(days))
        for value in chains:
            type_code, _, roles = value.partition("=")
            o.chain(type_code.strip(), roles.split(","))
        for type_code in disabled:
            o.disable(type_code.strip())
    except RuleError as exc:
        fail(str(exc), BAD_ARGUMENT)
    return o


UNION_CODE = re.compile(r"^[0-9]{1,12}$")


def union_code(code: str) -> str:
    """A union's code, checked: its BBS geo-code, or any 1-12 digits unique to it; its memo numbers begin with it."""
    code = code.strip()
    if not UNION_CODE.match(code):
        raise BadField("code", f"{code!r} is not a union code: 1-12 digits (the union's BBS geo-code)")
    return code


def union_values(slug: str, code: str, name_bn: str, name_en: str, upazila_bn: str, upazila_en: str,
                 district_bn: str, district_en: str, upazila: str | None = None) -> dict[str, str]:
    """A new union's columns, checked; raises BadField naming the value."""
    from sonod import audit  # lazy: SQLAlchemy
    from sonod.bootstrap import SLUG  # lazy: SQLAlchemy

    slug = slug.strip().lower()
    if not SLUG.match(slug) or slug == audit.DEPLOYMENT:
        raise BadField("union", f"{slug!r} is not a union slug: 1-40 of a-z, 0-9 and '-' (not {audit.DEPLOYMENT!r})")
    upazila_slug = (upazila or re.sub(r"[^a-z0-9]+", "-", upazila_en.lower()).strip("-")).strip().lower()
    if not SLUG.match(upazila_slug):
        raise BadField("upazila", f"{upazila_slug!r} is not an upazila slug: a-z, 0-9 and '-'")
    values = {"slug": slug, "code": union_code(code), "name_bn": name_bn.strip(), "name_en": name_en.strip(),
              "upazila_slug": upazila_slug,
              "upazila_bn": upazila_bn.strip(), "upazila_en": upazila_en.strip(), "district_bn": district_bn.strip(),
              "district_en": district_en.strip()}
    for name, value in values.items():
        if not value:
            raise BadField(name, "is empty")
        if len(value) > 100:
            raise BadField(name, "is longer than 100 characters")
    return values


def code_taken(session: Session, code: str) -> str | None:
    """The union that already has this code, if one does."""
    from sqlalchemy import select  # lazy: SQLAlchemy

    from sonod import db  # lazy: SQLAlchemy

    return session.scalar(select(db.Union.slug).where(db.Union.code == code))


def create_union(session: Session, values: dict[str, str], rules: Overrides | None = None) -> db.Union:
    """The union with its rules and signing key, audited as its chain's first entry."""
    from sonod import db  # lazy: SQLAlchemy
    from sonod.bootstrap import add_union  # lazy: SQLAlchemy

    union = add_union(session, values, load_settings().master_key, db.utcnow(), rules)
    session.flush()
    changed = {"fees": rules.fees, "deadlines": rules.deadlines, "chains": rules.chains,
               "disabled": sorted(rules.disabled)} | ({"valid": rules.valid} if rules.valid else {}) if rules else {}
    record(session, union.slug, "union.create", union.slug, {"upazila": union.upazila_slug, **changed})
    return union


@admin_app.command("add-union")
def admin_add_union(
    slug: Annotated[str, typer.Argument(help="The union's slug, e.g. patgati: its address and certificate numbers.")],
    code: Annotated[str, typer.Option(
        "--code", help="The union's code (its BBS geo-code): its memo numbers begin with it.")],
    name_bn: Annotated[str, typer.Option("--name-bn", help="The union's name in Bengali.")],
    name_en: Annotated[str, typer.Option("--name-en", help="The union's name in English.")],
    upazila_bn: Annotated[str, typer.Option("--upazila-bn", help="The upazila's name in Bengali.")],
    upazila_en: Annotated[str, typer.Option("--upazila-en", help="The upazila's name in English.")],
    district_bn: Annotated[str, typer.Option("--district-bn", help="The district's name in Bengali.")],
    district_en: Annotated[str, typer.Option("--district-en", help="The district's name in English.")],
    upazila: Annotated[str | None, typer.Option(
        "--upazila", help="The upazila's slug (default: from --upazila-en).")] = None,
    fee: Annotated[list[str] | None, typer.Option(
        "--fee", help="TYPE.LINE=AMOUNT in taka, e.g. trade_licence.licence_fee=600 (repeatable).")] = None,
    deadline: Annotated[list[str] | None, typer.Option(
        "--deadline", help="TYPE=DAYS an officer's step may take, e.g. warish=10 (repeatable).")] = None,
    chain: Annotated[list[str] | None, typer.Option(
        "--chain", help="TYPE=ROLE,... the approval chain, e.g. citizenship=secretary,chairman (repeatable).")] = None,
    disable: Annotated[list[str] | None, typer.Option(
        "--disable", help="A certificate type the union does not issue (repeatable).")] = None,
    valid: Annotated[list[str] | None, typer.Option("--valid", help="TYPE=DAYS a certificate is valid, 0: no expiry, "
                                                    "e.g. trade_licence=365 (repeatable).")] = None,
) -> None:
    """Add a union with the catalogue's fees, deadlines, chains and validity (overridable) and its signing key."""
    from sonod import db  # lazy: SQLAlchemy

    rules = overrides(fee or [], deadline or [], chain or [], disable or [], valid)
    try:
        values = union_values(slug, code, name_bn, name_en, upazila_bn, upazila_en, district_bn, district_en, upazila)
    except BadField as exc:
        fail(f"--{exc.field.replace('_', '-')}: {exc}", BAD_ARGUMENT)
    with database() as session:
        if session.get(db.Union, values["slug"]) is not None:
            fail(f"a union {values['slug']} already exists")
        if (taken := code_taken(session, values["code"])) is not None:
            fail(f"--code: {values['code']} is the code of the union {taken}", BAD_ARGUMENT)
        union = create_union(session, values, rules)
        count = len(session.scalars(select_rules(union.slug)).all())
    typer.echo(f"added the union {union.slug} ({union.name_en}, {union.upazila_en}, {union.district_en}) "
               f"with {count} certificate types and its signing key")
    typer.echo(f"next: its officers (`sonod officers create ... --union {union.slug}`) and, if a portal serves it, "
               "a key (`sonod portal-keys create NAME`)")


@admin_app.command("union-code")
def admin_union_code(
    slug: Annotated[str, typer.Argument(help="The union's slug.")],
    code: Annotated[str, typer.Argument(help="Its code (the BBS geo-code): its memo numbers begin with it.")],
) -> None:
    """Set a union's code, e.g. after migration 0007 numbered the existing unions 01, 02, ...; certificates already
    issued keep the memo numbers they were printed with."""
    from sonod import db  # lazy: SQLAlchemy

    try:
        code = union_code(code)
    except BadField as exc:
        fail(f"code: {exc}", BAD_ARGUMENT)
    with database() as session:
        union = session.get(db.Union, slug)
        if union is None:
            fail(f"no union {slug!r}", BAD_ARGUMENT)
        if (taken := code_taken(session, code)) not in (None, slug):
            fail(f"{code} is the code of the union {taken}", BAD_ARGUMENT)
        old, union.code = union.code, code
        record(session, union.slug, "union.code", union.slug, {"from": old, "to": code})
    typer.echo(f"{slug}: code {old} -> {code}")


@admin_app.command("payment-provider")
def admin_payment_provider(
    slug: Annotated[str, typer.Argument(help="The union's slug.")],
    provider: Annotated[str, typer.Argument(help="ekpay, bkash, sslcommerz, nagad, callback, or default "
                                                 "(SONOD_PAYMENT_PROVIDER's).")],
) -> None:
    """The gateway the union's fees are paid through, for applications submitted from now on
    (docs/INTEGRATIONS.md)."""
    from sonod import db  # lazy: SQLAlchemy

    contracted = ["callback", *load_settings().enabled_payment_providers]
    if provider != "default" and provider not in contracted:
        fail(f"provider: one of {', '.join(contracted)} or default (SONOD_PAYMENT_PROVIDERS names the gateways "
             "this deployment has contracts with)", BAD_ARGUMENT)
    with database() as session:
        union = session.get(db.Union, slug)
        if union is None:
            fail(f"no union {slug!r}", BAD_ARGUMENT)
        old, union.payment_provider = union.payment_provider, None if provider == "default" else provider
        record(session, union.slug, "union.payment_provider", union.slug, {"from": old, "to": union.payment_provider})
    typer.echo(f"{slug}: fees through {provider} (was {old or 'default'})")


def select_rules(union: str):
    from sqlalchemy import select  # lazy: SQLAlchemy

    from sonod import db  # lazy: SQLAlchemy

    return select(db.UnionRule).where(db.UnionRule.union_slug == union)


# ---------------------------------------------------------------------------------------------------------------
# a whole upazila from a CSV file

CSV_REQUIRED = ("district_bn", "district_en", "upazila_bn", "upazila_en", "union", "union_bn", "union_en",
                "username", "role")
CSV_OPTIONAL = ("ward", "name_bn", "name_en", "mobile", "upazila", "union_code")


class BadRow(ValueError):
    def __init__(self, line: int, column: str, message: str) -> None:
        super().__init__(f"line {line}, column {column}: {message}")


@admin_app.command("import-upazila")
def admin_import_upazila(
    path: Annotated[Path, typer.Argument(help="The CSV file (UTF-8, a header line; see docs/upazila-sample.csv).")],
) -> None:
    """Add a whole upazila's unions (the catalogue's rules, a signing key each) and officers from one CSV file, in
    one transaction: a bad row stops it with its line and column named, and nothing is imported. Prints each
    officer's generated password and, for roles that need it, the TOTP enrolment URI, once."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}", BAD_ARGUMENT)
    made: list[tuple[str, str, str, str | None, str | None]] = []
    with database() as session:
        try:
            unions, officers = read_upazila_csv(session, text)
        except BadRow as exc:
            fail(f"{path}: {exc}; nothing was imported", BAD_ARGUMENT)
        for values in unions:
            create_union(session, values)
        for o in officers:
            generated, totp = add_officer(session, o["username"], o["kind"], o["union"], o["upazila"], o["ward"],
                                          o["name_bn"], o["name_en"], o["mobile"])
            made.append((o["username"], o["kind"].value, o["union"] or f"upazila:{o['upazila']}", generated, totp))
        record(session, None, "upazila.import", path.name[:80],
               {"unions": [u["slug"] for u in unions], "officers": len(officers)})
    typer.echo(f"imported {len(unions)} union(s) and {len(made)} officer(s) from {path}")
    for username, role, where, password, totp in made:
        typer.echo(f"{username}\t{role}\t{where}")
        show_credentials(username, password, totp)
    typer.echo("(shown once: hand them to the officers now)")


def read_upazila_csv(session: Session, text: str) -> tuple[list[dict], list[dict]]:
    """The new unions and officers of the file, every row checked against the file and the database; raises
    BadRow for the first row that does not fit."""
    from sqlalchemy import select  # lazy: SQLAlchemy

    from sonod import db  # lazy: SQLAlchemy

    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in CSV_REQUIRED if name not in header]
    if missing:
        raise BadRow(1, missing[0], f"missing from the header (it needs {', '.join(CSV_REQUIRED)}; "
                                    f"optional: {', '.join(CSV_OPTIONAL)})")
    reader.fieldnames = header
    unions: dict[str, tuple[int, dict]] = {}
    officers: list[dict] = []
    usernames: dict[str, int] = {}
    known_users = set(session.scalars(select(db.User.username)))
    for row in reader:
        line = reader.line_num
        cell = {name: (row.get(name) or "").strip() for name in (*CSV_REQUIRED, *CSV_OPTIONAL)}
        if None in row:
            raise BadRow(line, header[-1], "more values than the header has columns")
        upazila = None
        slug = cell["union"].lower()
        if slug:
            existing = session.get(db.Union, slug)
            if existing is not None:
                upazila = existing.upazila_slug
            elif slug in unions:
                first, values = unions[slug]
                upazila = values["upazila_slug"]
                if (cell["union_bn"], cell["union_en"]) not in ((values["name_bn"], values["name_en"]), ("", "")):
                    raise BadRow(line, "union_bn", f"the union {slug} is named differently on line {first}")
            else:
                try:
                    values = union_values(slug, cell["union_code"], cell["union_bn"], cell["union_en"],
                                          cell["upazila_bn"],
                                          cell["upazila_en"], cell["district_bn"], cell["district_en"],
                                          cell["upazila"] or None)
                except BadField as exc:
                    column = {"slug": "union", "name_bn": "union_bn", "name_en": "union_en",
                              "upazila_slug": "upazila", "code": "union_code"}.get(exc.field, exc.field)
                    raise BadRow(line, column, str(exc)) from None
                taken = code_taken(session, values["code"]) or next(
                    (other for other, (_, v) in unions.items() if v["code"] == values["code"]), None)
                if taken is not None:
                    raise BadRow(line, "union_code", f"{values['code']} is the code of the union {taken}")
                unions[slug] = (line, values)
                upazila = values["upazila_slug"]
        if not cell["username"]:
            if cell["role"] or not slug:
                raise BadRow(line, "username", "is empty (a row without an officer only names a union)")
            continue
        username = cell["username"].lower()
        ward = None
        if cell["ward"]:
            if not cell["ward"].isdigit():
                raise BadRow(line, "ward", f"{cell['ward']!r} is not a number")
            ward = int(cell["ward"])
        try:
            kind = officer_role(username, cell["role"], bool(slug) or cell["role"] in ("upazila_admin",
                                                                                      "administrator"),
                                ward, cell["mobile"] or None, COLUMNS)
        except BadField as exc:
            raise BadRow(line, exc.field, str(exc)) from None
        if kind.value == "operator":
            raise BadRow(line, "role", "operators serve every upazila: create them with `sonod officers create`")
        if upazila is None:
            try:
                upazila = union_values("x", "0", "x", "x", cell["upazila_bn"], cell["upazila_en"], cell["district_bn"],
                                       cell["district_en"], cell["upazila"] or None)["upazila_slug"]
            except BadField as exc:
                raise BadRow(line, exc.field, str(exc)) from None
        if username in known_users:
            raise BadRow(line, "username", f"an officer named {username} already exists")
        if username in usernames:
            raise BadRow(line, "username", f"{username} is also on line {usernames[username]}")
        usernames[username] = line
        officers.append({"username": username, "kind": kind, "union": slug or None, "upazila": upazila,
                         "ward": ward, "name_bn": cell["name_bn"], "name_en": cell["name_en"],
                         "mobile": cell["mobile"] or None})
    return [values for _, values in unions.values()], officers
