"""Demo data: the 21 unions of Gopalganj Sadar, the catalogue, each union's rules and the demo accounts.

Idempotent: running it twice changes nothing.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session as OrmSession

from sonod import db
from sonod.bootstrap import DEFAULT_ESCALATION, add_rules, ensure_catalogue
from sonod.domain import Role
from sonod.security import hash_api_key
from sonod.settings import Settings
from sonod.unions import GOPALGANJ_SADAR, WARDS

REFUSAL = ("`sonod seed` makes demo data (one shared password and TOTP secret for every account) and runs only in "
           "dev mode (SONOD_DEV_MODE=true). To set up a deployment: `sonod admin add-union` (or a whole upazila "
           "from a CSV file: `sonod admin import-upazila FILE.csv`), `sonod officers create` and "
           "`sonod portal-keys create`; see docs/OFFICERS.md")


class DemoDataRefused(RuntimeError):
    """`seed` outside dev mode."""


# The demo officers' names: a union's thirteen officers take thirteen different ones of OFFICERS (rotated by the
# union, so that unions differ), and the upazila's own accounts have names of their own, so that no certificate is
# signed twice by the same name.
OFFICERS = [("মোঃ আব্দুল হালিম", "Md. Abdul Halim"), ("শেখ রফিকুল ইসলাম", "Sheikh Rafiqul Islam"),
            ("মোঃ কামরুজ্জামান", "Md. Kamruzzaman"), ("সুশান্ত বিশ্বাস", "Sushanta Biswas"),
            ("মোছাঃ নাসরিন আক্তার", "Mst. Nasrin Akter"), ("মোঃ জাহিদ হাসান", "Md. Zahid Hasan"),
            ("প্রদীপ কুমার সাহা", "Pradip Kumar Saha"), ("মোঃ মিজানুর রহমান", "Md. Mizanur Rahman"),
            ("শাহানা পারভীন", "Shahana Parvin"), ("মোঃ তরিকুল ইসলাম", "Md. Tariqul Islam"),
            ("বিকাশ চন্দ্র মণ্ডল", "Bikash Chandra Mondal"), ("মোঃ শফিকুল আলম", "Md. Shafiqul Alam"),
            ("রোকসানা খাতুন", "Roksana Khatun"), ("মোঃ আনোয়ার হোসেন", "Md. Anwar Hossain"),
            ("দিলরুবা ইয়াসমিন", "Dilruba Yasmin"), ("মোঃ সাইদুর রহমান মোল্লা", "Md. Saidur Rahman Molla"),
            ("গৌতম কুমার দাস", "Goutam Kumar Das")]
UPAZILA_OFFICERS = {"uno": ("মোহাম্মদ ইমরান হোসেন", "Mohammad Imran Hossain"),
                    "admin": ("ফারহানা আফরোজ", "Farhana Afroz"), "operator": ("তানভীর আহমেদ", "Tanvir Ahmed")}
UNION_ACCOUNTS = ["chairman", "secretary", "udc", "acting", *(f"ward{n}" for n in WARDS)]


def demo_name(username: str) -> tuple[str, str]:
    """A stable, realistic name for a demo officer (certificates print the signatory's name): different for every
    officer of one union, and for the upazila's administrator who may sign in the chairman's place."""
    account, _, place = username.partition(".")
    if account in UPAZILA_OFFICERS:
        return UPAZILA_OFFICERS[account]
    position = UNION_ACCOUNTS.index(account) if account in UNION_ACCOUNTS else len(UNION_ACCOUNTS)
    return OFFICERS[(sum(map(ord, place)) + position) % len(OFFICERS)]


def demo_accounts(slug: str) -> list[tuple[str, Role, int | None]]:
    accounts: list[tuple[str, Role, int | None]] = [
        (f"chairman.{slug}", Role.CHAIRMAN, None), (f"secretary.{slug}", Role.SECRETARY, None),
        (f"udc.{slug}", Role.UDC, None), (f"acting.{slug}", Role.ACTING_CHAIRMAN, None)]
    accounts += [(f"ward{n}.{slug}", Role.WARD_MEMBER, n) for n in WARDS]
    return accounts


def seed(session: OrmSession, settings: Settings) -> dict[str, int]:
    """The demo data, in dev mode only (raises DemoDataRefused otherwise)."""
    from sonod.security import hash_password

    if not settings.dev_mode:
        raise DemoDataRefused(REFUSAL)

    created = {"unions": 0, "types": 0, "rules": 0, "users": 0, "portal_keys": 0}
    existing_users = set(session.scalars(select(db.User.username)))
    password_hash: str | None = None
    needing_totp: list[str] = []

    def add_user(username: str, role: Role, union: str | None, upazila: str | None, ward: int | None) -> None:
        nonlocal password_hash
        if username in existing_users:
            if role.needs_totp:
                needing_totp.append(username)
            return
        password_hash = password_hash or hash_password(settings.demo_password)
        session.add(db.User(
            username=username, password_hash=password_hash, role=role, union_slug=union, upazila_slug=upazila,
            ward_no=ward, name_bn=demo_name(username)[0], name_en=demo_name(username)[1], mobile=None,
            totp_secret=settings.demo_totp_secret if role.needs_totp else None,
        ))
        created["users"] += 1

    for n, u in enumerate(GOPALGANJ_SADAR, 1):
        if session.get(db.Union, u.slug) is None:
            session.add(db.Union(slug=u.slug, code=f"{n:02d}", name_bn=u.name_bn, name_en=u.name_en,
                                 upazila_bn=u.upazila_bn, upazila_en=u.upazila_en, upazila_slug=u.upazila_slug,
                                 district_bn=u.district_bn, district_en=u.district_en, escalation=DEFAULT_ESCALATION))
            created["unions"] += 1
    created["types"] = ensure_catalogue(session)
    for u in GOPALGANJ_SADAR:
        created["rules"] += add_rules(session, u.slug)
        for username, role, ward in demo_accounts(u.slug):
            add_user(username, role, u.slug, u.upazila_slug, ward)
    upazila = GOPALGANJ_SADAR[0].upazila_slug
    add_user(f"uno.{upazila}", Role.UPAZILA_ADMIN, None, upazila, None)
    add_user(f"admin.{upazila}", Role.ADMINISTRATOR, None, upazila, None)
    add_user("operator", Role.OPERATOR, None, None, None)
    # demo officers seeded before their role needed two factors (issue 12: the operator, the upazila administrator)
    session.execute(update(db.User).where(db.User.username.in_(needing_totp), db.User.totp_secret.is_(None))
                    .values(totp_secret=settings.demo_totp_secret))

    from sonod.keys import KeyStore

    keys = KeyStore(None, settings.master_key)
    for u in GOPALGANJ_SADAR:
        keys.ensure(session, u.slug, db.utcnow())

    key_hash = hash_api_key(settings.demo_portal_key)
    if session.scalar(select(db.PortalKey).where(db.PortalKey.name == "demo-portal")) is None:
        session.add(db.PortalKey(name="demo-portal", key_hash=key_hash))
        created["portal_keys"] += 1
    session.flush()
    return created
