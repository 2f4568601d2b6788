"""What offline verifiers download: the status lists, one per union and year of certificates, signed on request with
the union's current key; and the trust list, the unions' keys signed by the sonod root (sonod/pki.py)."""

from __future__ import annotations

from anyio import to_thread
from fastapi import Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.errors import NotFound
from sonod import db, pki
from sonod.bengali import GREGORIAN_MONTHS_BN
from sonod.catalogue import BY_CODE
from sonod.keys import KeyStore
from sonod.offline import status_list_jws, trust_list_jws
from sonod.signing import jwks

PREFIX = "/api/v1/status-lists"
NAMES_URL = "/verify/names.json"

_YEARS = (select(db.Certificate.union_slug, db.Certificate.year)
          .group_by(db.Certificate.union_slug, db.Certificate.year)
          .order_by(db.Certificate.union_slug, db.Certificate.year))


def index(session: Session) -> dict:
    """Every union-year that has certificates, and where its list is."""
    now = int(db.utcnow().timestamp())
    return {"lists": [{"union": union, "year": year, "iat": now, "url": f"{PREFIX}/{union}/{year}"}
                      for union, year in session.execute(_YEARS)]}


def signed(session: Session, keys: KeyStore, union: str, year: int) -> str:
    """The union's list of `year` as a compact JWS: the revoked certificates' sequence numbers set."""
    of_year = (db.Certificate.union_slug == union, db.Certificate.year == year)
    highest = session.scalar(select(func.max(db.Certificate.seq)).where(*of_year))
    if highest is None:
        raise NotFound(f"union {union!r} has no certificates of {year}")
    revoked = session.scalars(select(db.Certificate.seq).where(*of_year, db.Certificate.revoked_at.is_not(None)))
    now = db.utcnow()
    kid, private_raw = keys.signing_key(union, now, session)
    return status_list_jws(union, year, list(revoked), highest, kid, private_raw, now)


def trust_list(session: Session, keys: KeyStore, master_key: str) -> str:
    """Every union's keys (as GET /.well-known/jwks.json lists them) signed by the root."""
    root = pki.ensure_root(session, master_key)
    return trust_list_jws(jwks(keys.trusted_keys(session))["keys"], pki.public_jwk(root.certificate)["kid"],
                          lambda data: pki.es256_sign(root.key, data), db.utcnow())


async def offline_data(request: Request) -> dict:
    """What every verify page carries for verifying without a network: the pinned root. The names to show
    (`names`) grow with the country, so they are a document of their own that the page keeps with the lists."""
    state = request.app.state
    if getattr(state, "verify_root", None) is None:
        def read_root() -> dict:
            with state.sessions.begin() as session:
                return pki.root_public_jwk(session, state.settings.master_key)
        state.verify_root = await to_thread.run_sync(read_root)
    return {"root": state.verify_root, "months_bn": list(GREGORIAN_MONTHS_BN), "names_url": NAMES_URL}


def names(request: Request) -> dict:
    """The unions' and the certificate types' names, for an answer given on the phone."""
    unions = {slug: [u.name_bn, u.name_en, u.upazila_bn, u.district_bn]
              for slug, u in request.app.state.verifier.unions.items()}
    return {"unions": unions, "types": {code: [kind.name_bn, kind.name_en] for code, kind in BY_CODE.items()}}
