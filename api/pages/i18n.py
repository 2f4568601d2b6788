"""The pages' words, through gettext catalogues, and how numbers, dates and durations are written.

The words live in api/locale/<lang>/LC_MESSAGES/sonod.po (Bengali, the default, and English), with English msgids:
templates say `{{ _("Fee") }}`, Python marks its words with `N_()` (or `NP_()` for a word with a context), and
`make i18n` extracts them, updates the catalogues and compiles the `.mo` files that the pages read. A workflow's
refusal is translated by its code: the msgid is the refusal's English template (`Refusal.text`), filled in with its
parameters, which are put in words as well (statuses, roles, certificate types, ...).
"""

from __future__ import annotations

import datetime as dt
import gettext
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sonod.bengali import DHAKA, format_date_bn, format_taka_bn, group_south_asian, to_bn_digits
from sonod.catalogue import BY_CODE, LABELS, RELATION_BN
from sonod.domain import DecisionKind, Role, Status
from sonod.licences import BY_CATEGORY
from workflows.refusals import Refusal

if TYPE_CHECKING:  # for the annotation only: the pages' words need not load the API's errors
    from api.errors import ApiError

LANGS = ("bn", "en")
LOCALE = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "sonod"


def N_(message: str) -> str:
    """Marks a message for the catalogues; it is translated where it is shown."""
    return message


def NP_(context: str, message: str) -> str:
    """Marks a message that has a context (`make i18n`'s keyword `NP_:1c,2`): a status "Submitted" is not the
    column "Submitted"."""
    return message


@cache
def catalogue(lang: str) -> gettext.GNUTranslations:
    """The compiled catalogue of a language (a missing one is an install error, not an English page)."""
    return gettext.translation(DOMAIN, LOCALE, languages=[lang])


# Messages the page modules pass by key (in URLs, say `?done=decided`, or as an error's detail).
KEYS: dict[str, str] = {
    "login": N_("Log in"),
    "forbidden": N_("You may not do this"),
    "conflict": N_("This cannot be done now"),
    "not_found": N_("Not found"),
    "error": N_("Problem"),
    "bad_csrf": N_("The form has expired. Open the page again and retry."),
    "login_failed": N_("Wrong username, password or code."),
    "totp_needed": N_("This role needs the verification code (TOTP)."),
    "locked": N_("The account is locked after repeated failures; try again later."),
    "too_many": N_("Too many attempts; try again later."),
    "decided": N_("The decision is recorded."),
    "revoked_ok": N_("The certificate is revoked."),
    "reason_needed": N_("A reason is needed to reject or send back."),
    "revoke_reason_short": N_("The reason needs at least 3 characters."),
    "act_recommend": N_("Recommend"),
    "act_verify": N_("Verify"),
    "act_approve": N_("Approve"),
    "cancelled_ok": N_("Your application has been cancelled."),
    "amended_ok": N_("The corrected application is in. Once the NID is checked again, it goes back to the officer."),
    "paid_ok": N_("The fee is paid."),
    "cannot_cancel": N_("The application can no longer be cancelled."),
    "not_found_track": N_("No application matches this application number and mobile number."),
    "not_returned": N_("The application was not sent back for correction, so it cannot be corrected now."),
    # pydantic's errors on a form's fields (api/pages/forms.py)
    "err_required": N_("Fill in this field"),
    "err_pattern": N_("Use the right format (digits only, the right number of them)"),
    "err_number": N_("Enter a number"),
    "err_date": N_("Enter a valid date"),
    "err_range": N_("The number is out of range"),
    "err_too_few": N_("Add at least one"),
    "err_too_long": N_("The text is too long"),
    "err_choice": N_("Choose from the list"),
    # deadlines, also counted down live by api/static/sonod.js
    "free": N_("Free"),
    "left": N_("{t} left"),
    "overdue_by": N_("overdue by {t}"),
    "days": N_("{n} d"),
    "hours": N_("{n} h"),
    "minutes": N_("{n} min"),
}

STATUS: dict[str, str] = {
    Status.SUBMITTED: NP_("status", "Submitted"),
    Status.VERIFYING_NID: NP_("status", "Checking the NID"),
    Status.NID_FAILED: NP_("status", "NID check failed"),
    Status.AWAITING_PAYMENT: NP_("status", "Awaiting payment"),
    Status.AWAITING_RECOMMENDATION: NP_("status", "Awaiting the ward member"),
    Status.AWAITING_VERIFICATION: NP_("status", "Awaiting the secretary"),
    Status.AWAITING_DECISION: NP_("status", "Awaiting the chairman"),
    Status.RETURNED: NP_("status", "Returned for correction"),
    Status.REJECTED: NP_("status", "Rejected"),
    Status.ISSUING: NP_("status", "Issuing"),
    Status.ISSUED: NP_("status", "Issued"),
    Status.CANCELLED: NP_("status", "Cancelled"),
}

ROLES: dict[str, str] = {
    Role.UDC: N_("UDC entrepreneur"),
    Role.WARD_MEMBER: N_("Ward member"),
    Role.SECRETARY: N_("Secretary"),
    Role.CHAIRMAN: N_("Chairman"),
    Role.ACTING_CHAIRMAN: N_("Acting chairman"),
    Role.ADMINISTRATOR: N_("Administrator"),
    Role.UPAZILA_ADMIN: N_("Upazila administration"),
    Role.OPERATOR: N_("Operator"),
    Role.PORTAL: N_("Portal"),
}

# The fields of applications and of the catalogue's `details`, by their last name segment.
FIELDS: dict[str, str] = {
    "nid": N_("NID / birth registration no."),
    "brn": N_("Birth registration no. (only without an NID)"),
    "date_of_birth": N_("Date of birth"),
    "name_bn": N_("Name (Bengali)"),
    "name_en": N_("Name (English)"),
    "father_name_bn": N_("Father's name (Bengali)"),
    "mother_name_bn": N_("Mother's name (Bengali)"),
    "father_name_en": N_("Father's name (English)"),
    "mother_name_en": N_("Mother's name (English)"),
    "ward_no": N_("Ward no."),
    "mobile": N_("Mobile number"),
    "email": N_("Email"),
    "purpose": N_("Purpose"),
    "years_resident": N_("Years lived in the union"),
    "other_name_bn": N_("Other spelling of the name (Bengali)"),
    "other_name_en": N_("Other spelling of the name (English)"),
    "other_document_bn": N_("Document carrying the other name"),
    "deceased": N_("The deceased"),
    "date_of_death": N_("Date of death"),
    "death_registration_no": N_("Death registration no. (17 digits)"),
    "heirs": N_("Heirs"),
    "relation": N_("Relation"),
    "members": N_("Family members"),
    "late_spouse_name_bn": N_("Late spouse's name"),
    "spouse_date_of_death": N_("Spouse's date of death"),
    "annual_income": N_("Annual income (taka)"),
    "source_bn": N_("Source of income"),
    "fiscal_year": N_("Fiscal year (e.g. 2025-2026)"),
    "homestead_land_decimal": N_("Homestead land (decimals)"),
    "cultivable_land_decimal": N_("Cultivable land (decimals)"),
    "place_of_death_bn": N_("Place of death"),
    "business_name_bn": N_("Business name (Bengali)"),
    "business_name_en": N_("Business name (English)"),
    "business_type_bn": N_("Type of business"),
    "business_address_bn": N_("Business address"),
    "holding_tax_receipt_no": N_("Holding tax receipt no."),
    "capital_taka": N_("Capital (taka)"),
    "gender": N_("Gender"),
    "village_bn": N_("Village"),
    "present_address_bn": N_("Present address"),
}

# What the API itself refuses with that pages show, translated by msgid: the English detail, or the template of an
# error `said` with parameters (`ApiError.said`).
API_REFUSALS = (
    N_("no application {application_id}"),
    N_("{username} may not see this union's applications"),
    N_("the date of birth is in the future"),
    N_("the application has finished and takes no more decisions"),
)

# The words that fill a refusal's parameters, beside statuses, roles and certificate types.
DECISIONS: dict[str, str] = {  # "give a reason to {decision} an application"
    DecisionKind.REJECT: NP_("decision", "reject"),
    DecisionKind.RETURN: NP_("decision", "return"),
}
VERBS = (  # "only operators {verb}"
    NP_("operators", "escalate by hand"),
    NP_("operators", "resend notifications"),
)
CURRENCIES = (NP_("currency", "BDT"),)
AMOUNTS = ("fee", "amount")  # parameters that are sums of money: grouped in thousands; years and counts are not
DIGITS = ("prefix",)  # parameters that are digits given as text
WORDS = {"decision": "decision", "verb": "operators", "currency": "currency", "paid_currency": "currency"}


class Words:
    """The words of one language, for one request's templates (`t`); templates translate their own text with
    `_()`, which `gettext` below answers."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGS else "bn"
        self.i = 0 if self.lang == "bn" else 1
        self.tr = catalogue(self.lang)
        self.gettext, self.ngettext, self.pgettext = self.tr.gettext, self.tr.ngettext, self.tr.pgettext

    def __call__(self, what: str | Exception, **kw: Any) -> str:
        """A message key's words (KEYS), an error's (`error`), or any other text translated as a msgid: the
        English of a refusal the API raises, say; text no catalogue holds stays as it is."""
        if isinstance(what, Exception):
            return self.error(what)
        text = self.gettext(KEYS.get(what, what))
        return text.format(**{k: self.num(v) for k, v in kw.items()}) if kw else text

    def error(self, exc: ApiError | Exception) -> str:
        """An error in words: a workflow's refusal by its code, an error `said` with a template (`ApiError.said`,
        sonod.nid's `NumberError`) by its template, any other by its detail as a msgid."""
        code, params = getattr(exc, "code", None), getattr(exc, "params", None) or {}
        if isinstance(code, str) and code in Refusal._value2member_map_:
            return self.filled(Refusal(code).text, params)
        if code:
            return self.filled(code, params)
        return self(getattr(exc, "detail", None) or str(exc))

    def filled(self, template: str, params: dict[str, Any]) -> str:
        """A template translated, then filled in with its parameters in words (on an English page, as they come:
        the English message itself)."""
        if self.i == 1:
            return self.gettext(template).format(**params)
        return self.gettext(template).format(**{k: self._param(k, v) for k, v in params.items()})

    def _param(self, name: str, value: Any) -> str:
        if name == "status":
            return self.status(value)
        if name == "role":
            return self.role(value)
        if name == "certificate_type":
            kind = BY_CODE.get(str(value))
            return self.pick(kind.name_bn, kind.name_en) if kind else str(value)
        if name in WORDS:
            return self.pgettext(WORDS[name], str(value))
        if name in AMOUNTS:
            return self.num(int(value))
        if isinstance(value, int) or name in DIGITS:
            return self.num(str(value))  # a year, a count, a number's first digits: Bengali digits, not grouped
        return str(value)  # identifiers (a union's slug, a username) are written as they are

    def pick(self, bn: str | None, en: str | None) -> str:
        """The Bengali or the English of data that carries both (a union's name, a certificate type's)."""
        return (bn or en or "") if self.i == 0 else (en or bn or "")

    def status(self, value: str) -> str:
        return self.pgettext("status", STATUS[value]) if value in STATUS else str(value)

    def role(self, value: str) -> str:
        return self.gettext(ROLES[value]) if value in ROLES else str(value)

    def field(self, name: str, title: str | None = None) -> str:
        if name in FIELDS:
            return self.gettext(FIELDS[name])
        if name in LABELS:  # a declared certificate type's field: its labels are data, like the type's names
            return self.pick(LABELS[name].label_bn, LABELS[name].label_en)
        return title or name.replace("_", " ")

    def option(self, value: str) -> str:
        """A value of a list (an heir's relation): the catalogue's Bengali, else the code in words."""
        value = str(value)
        if value in BY_CATEGORY:  # a trade licence's business category (sonod/licences.py)
            return self.pick(BY_CATEGORY[value].name_bn, BY_CATEGORY[value].name_en)
        if value not in RELATION_BN:
            return value
        return RELATION_BN[value] if self.i == 0 else value.replace("_", " ")

    def num(self, n: object) -> str:
        if isinstance(n, int) and not isinstance(n, bool):
            n = group_south_asian(n)
        return to_bn_digits(n) if self.i == 0 else str(n)

    def taka(self, n: int) -> str:
        if not n:
            return self("free")
        return f"৳ {format_taka_bn(n)}" if self.i == 0 else f"Tk {group_south_asian(n)}"

    def date(self, d: dt.date | dt.datetime | str | None) -> str:
        if d is None or d == "":
            return ""
        if isinstance(d, str):
            try:
                parsed = dt.date.fromisoformat(d)
            except ValueError:
                return d
            d = parsed
        if isinstance(d, dt.datetime):
            d = d.astimezone(DHAKA).date()
        return format_date_bn(d) if self.i == 0 else f"{d.day} {d:%B %Y}"

    def datetime(self, t: dt.datetime | str | None) -> str:
        if not t:
            return ""
        if isinstance(t, str):
            t = dt.datetime.fromisoformat(t)
        local = t.astimezone(DHAKA)
        return f"{self.date(local)} {self.num(f'{local:%H:%M}')}"

    def duration(self, delta: dt.timedelta) -> str:
        """Days and hours (or minutes, when under an hour)."""
        minutes = int(abs(delta).total_seconds() // 60)
        days, hours = divmod(minutes // 60, 24)
        parts = []
        if days:
            parts.append(self("days", n=days))
        if hours or (days and not parts):
            parts.append(self("hours", n=hours))
        if not parts:
            parts.append(self("minutes", n=minutes % 60))
        return " ".join(parts)

    def countdown_words(self, now: dt.datetime) -> dict:
        """What api/static/sonod.js needs to count deadlines down live in these words (and the server's clock)."""
        return {key: self(key) for key in ("left", "overdue_by", "days", "hours", "minutes")} | {
            "now": int(now.timestamp() * 1000)}

    @staticmethod
    def instant(t: dt.datetime) -> str:
        """A moment in UTC, as scripts parse it."""
        return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def countdown(self, deadline: dt.datetime | None, now: dt.datetime) -> str:
        if deadline is None:
            return ""
        left = deadline - now
        return self("left", t=self.duration(left)) if left.total_seconds() >= 0 \
            else self("overdue_by", t=self.duration(left))
