"""The application form, shared by the citizen portal and the UDC desk: built from the catalogue, read back
into the API's own `ApplicationIn`, and submitted through the same service as `POST /api/v1/applications`."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

from fastapi import Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from temporalio.client import Client

from api.errors import ApiError, Conflict, Invalid, NotFound
from api.pages import forms
from api.schemas import AmendIn, ApplicationIn
from api.services import applications, unions
from sonod import db
from sonod.settings import Settings
from workflows.messages import Actor

# asked beside the type's fields: the certificates' language, and the issued certificate this application corrects
ASKED = {"language": "enum", "corrects": "text"}


@dataclass
class ApplicationForm:
    union: db.Union
    kind: dict  # the catalogue's entry: code, names, fields (JSON Schema), fee, deadline_days
    applicant: list[forms.Field]
    contact: list[forms.Field]
    details: list[forms.Field]
    values: dict = field(default_factory=dict)
    errors: dict[str, str | ApiError] = field(default_factory=dict)  # a message key, or an error to word
    problem: ApiError | None = None
    idempotency_key: str = field(default_factory=lambda: secrets.token_urlsafe(18))

    @property
    def promised_by(self) -> dt.date:
        """The date the union promises the certificate by, if the application is made today."""
        return (db.utcnow() + dt.timedelta(days=self.kind["deadline_days"])).date()

    @property
    def kinds(self) -> dict[str, str]:
        return forms.kinds_by_name(self.applicant + self.contact + self.details) | ASKED


def load(session: Session, union_slug: str | None, code: str, mobile_required: bool) -> ApplicationForm:
    union = unions.get_union(session, union_slug, ["path", "union"])
    kind = next((k for k in unions.catalogue(session, union.slug) if k["code"] == code and "union" in k), None)
    if kind is None:
        raise NotFound(f"{union.slug} does not issue {code!r}")
    return ApplicationForm(union=union, kind=kind, applicant=forms.applicant_fields(),
                           contact=forms.contact_fields(mobile_required),
                           details=forms.fields_from_schema(kind["fields"], "details"))


async def read(request: Request, form: ApplicationForm) -> ApplicationIn | None:
    """What was posted, as the API's own `ApplicationIn`; None with the form's errors filled in."""
    posted = await request.form()
    items = [(k, v) for k, v in posted.multi_items() if isinstance(v, str)]
    form.values = forms.read_form(items, form.kinds)
    if form.contact and any(f.key == "mobile" and f.required for f in form.contact) \
            and not forms.value_at(form.values, "contact.mobile"):
        form.errors["contact.mobile"] = "err_required"
    try:
        body = ApplicationIn(union=form.union.slug, certificate_type=form.kind["code"],
                             applicant=form.values.get("applicant", {}), contact=form.values.get("contact", {}),
                             details=form.values.get("details", {}), language=form.values.get("language", "bn"),
                             corrects=form.values.get("corrects"))
    except ValidationError as e:
        for err in e.errors():
            form.errors.setdefault(forms.error_name(err["loc"]), forms.error_message(err["type"], err["msg"]))
        return None
    return None if form.errors else body


def _invalid(form: ApplicationForm, e: Invalid) -> None:
    """The refusal beside its field: said by its template where it has one (the page translates it)."""
    for err in e.errors:
        said = e if e.code else forms.error_message(err["type"], err["msg"])
        form.errors.setdefault(forms.error_name(err["loc"]), said)


async def submit(request: Request, session: Session, settings: Settings, temporal: Client, form: ApplicationForm,
                 actor: Actor) -> str | None:
    """The new application's number, or None with the form's errors filled in. The form's hidden key is the
    Idempotency-Key: a form sent twice makes one application."""
    body = await read(request, form)
    if body is None:
        return None
    key = str((await request.form()).get("idem", ""))[:100] or None
    try:
        application_id, _ = await applications.submit(session, settings, temporal, body, actor, form.union.slug, key)
    except Invalid as e:
        _invalid(form, e)
        form.idempotency_key = secrets.token_urlsafe(18)
        return None
    except Conflict as e:
        form.problem, form.idempotency_key = e, secrets.token_urlsafe(18)
        return None
    return application_id


def prefilled(form: ApplicationForm, row: db.Application) -> ApplicationForm:
    """The form filled in with what the application holds now, to be corrected."""
    form.values = {"applicant": row.applicant, "contact": row.contact, "details": row.details}
    return form


async def amend(request: Request, session: Session, temporal: Client, form: ApplicationForm, row: db.Application,
                actor: Actor) -> AmendIn | None:
    """Send the corrected form as the workflow's `amend` update, through the same service as
    `POST /api/v1/applications/{id}/amend`: what was sent, or None with the form's errors filled in. The workflow's
    refusals (no longer returned, say) are raised as they are."""
    body = await read(request, form)
    if body is None:
        return None
    amendment = AmendIn(applicant=body.applicant, contact=body.contact, details=body.details)
    try:
        await applications.amend(session, temporal, actor, row, amendment)
    except Invalid as e:
        _invalid(form, e)
        return None
    return amendment
