"""What a union needs before it takes applications: the catalogue's types, its rules (fees, deadlines and approval
chain per certificate type: the catalogue's defaults, overridable) and its Ed25519 signing key.

Used by the demo seed (sonod/seed.py) and by the administrator's `sonod admin add-union` / `import-upazila`
(infra/admin_cli.py), which are how a production deployment gets its unions.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from sonod import db
from sonod.catalogue import CATALOGUE
from sonod.domain import STEP_STATUS, Role

DEFAULT_ESCALATION = {
    "after_days": 3, "roles": [Role.ACTING_CHAIRMAN, Role.ADMINISTRATOR], "notify": [Role.UPAZILA_ADMIN],
}
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
TYPES = {t.code: t for t in CATALOGUE}


class RuleError(ValueError):
    """An override that does not fit the catalogue; `option` names it (`--fee trade_licence.vat`)."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option


@dataclass
class Overrides:
    """Per certificate type: fee lines by code (taka), deadline in days, approval chain, types turned off."""

    fees: dict[str, dict[str, int]] = field(default_factory=dict)
    deadlines: dict[str, int] = field(default_factory=dict)
    chains: dict[str, list[str]] = field(default_factory=dict)
    disabled: set[str] = field(default_factory=set)
    valid: dict[str, int] = field(default_factory=dict)  # days a certificate is valid, 0 for no expiry

    def fee(self, type_code: str, line: str, amount: int) -> None:
        option = f"--fee {type_code}.{line}"
        t = _type(option, type_code)
        if line not in {f.code for f in t.fee_lines}:
            codes = ", ".join(f.code for f in t.fee_lines) or "none"
            raise RuleError(option, f"{type_code} has no fee line {line!r} (its lines: {codes})")
        if not 0 <= amount <= 1_000_000:
            raise RuleError(option, f"{amount} is not an amount in taka (0 to 1000000)")
        self.fees.setdefault(type_code, {})[line] = amount

    def deadline(self, type_code: str, days: int) -> None:
        _type(f"--deadline {type_code}", type_code)
        if not 1 <= days <= 365:
            raise RuleError(f"--deadline {type_code}", f"{days} is not 1 to 365 days")
        self.deadlines[type_code] = days

    def chain(self, type_code: str, roles: Sequence[str]) -> None:
        option = f"--chain {type_code}"
        _type(option, type_code)
        steps = [r.strip().lower() for r in roles if r.strip()]
        allowed = [r.value for r in STEP_STATUS]
        if not steps or any(r not in allowed for r in steps) or len(set(steps)) != len(steps) \
                or steps[-1] != Role.CHAIRMAN.value:
            raise RuleError(option, f"{','.join(roles)!r} is not a chain: distinct steps of {', '.join(allowed)}, "
                                    "ending with chairman")
        self.chains[type_code] = steps

    def validity(self, type_code: str, days: int) -> None:
        _type(f"--valid {type_code}", type_code)
        if not 0 <= days <= 3650:
            raise RuleError(f"--valid {type_code}", f"{days} is not 0 (no expiry) to 3650 days")
        self.valid[type_code] = days

    def disable(self, type_code: str) -> None:
        self.disabled.add(_type(f"--disable {type_code}", type_code).code)


def _type(option: str, code: str):
    if code not in TYPES:
        raise RuleError(option, f"no certificate type {code!r} (one of: {', '.join(TYPES)})")
    return TYPES[code]


def ensure_catalogue(session: Session) -> int:
    """The catalogue's certificate types, those missing added; how many were."""
    added = 0
    for t in CATALOGUE:
        if session.get(db.CertificateTypeRow, t.code) is None:
            session.add(db.CertificateTypeRow(code=t.code, name_bn=t.name_bn, name_en=t.name_en,
                                              fields_schema=t.fields_schema(), valid_days=t.valid_days))
            added += 1
    session.flush()
    return added


def add_rules(session: Session, union: str, overrides: Overrides | None = None) -> int:
    """The union's rule for each catalogue type it lacks, from the catalogue and the overrides; how many."""
    o = overrides or Overrides()
    added = 0
    for t in CATALOGUE:
        if session.get(db.UnionRule, (union, t.code)) is not None:
            continue
        fees = o.fees.get(t.code, {})
        session.add(db.UnionRule(
            union_slug=union, certificate_type=t.code, deadline_days=o.deadlines.get(t.code, t.deadline_days),
            chain=o.chains.get(t.code, [str(r) for r in t.chain]), enabled=t.code not in o.disabled,
            valid_days=o.valid.get(t.code),
            fee_lines=[{"code": f.code, "name_bn": f.name_bn, "name_en": f.name_en,
                        "amount": fees.get(f.code, f.amount)} for f in t.fee_lines],
        ))
        added += 1
    return added


def add_union(session: Session, values: Mapping[str, str], master_key: str, now: dt.datetime,
              overrides: Overrides | None = None) -> db.Union:
    """A new union (`values`: slug, code, name_bn, name_en, upazila_slug, upazila_bn, upazila_en, district_bn,
    district_en)
    with the catalogue, its rules and its signing key, in the caller's transaction."""
    from sonod.keys import KeyStore

    union = db.Union(**values, escalation=DEFAULT_ESCALATION)
    session.add(union)
    ensure_catalogue(session)
    add_rules(session, union.slug, overrides)
    KeyStore(None, master_key).ensure(session, union.slug, now)
    return union
