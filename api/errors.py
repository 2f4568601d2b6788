"""Typed exceptions and the one place that maps them, and Temporal's, to HTTP answers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self, TypedDict

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from workflows.refusals import (
    NOT_AWAITING,
    REASON_REQUIRED,
    TEXT_EN_REQUIRED,
    TEXT_REQUIRED,
    WRONG_AMOUNT,
    WRONG_OFFICER,
    refusal_of,
)


class ApiError(Exception):
    """`detail` is English (API v1's answer); `code` and `params`, when the refusal has them (a workflow's
    `Refusal`), let the pages say it in the reader's language (api/pages/i18n.py)."""

    status_code = 400

    def __init__(self, detail: str, code: str | None = None, params: dict | None = None) -> None:
        super().__init__(detail)
        self.detail, self.code, self.params = detail, code, params

    @classmethod
    def said(cls, template: str, **params: str | int) -> Self:
        """An error whose English is a catalogue's msgid, filled in: `NotFound.said(N_("no application {id}"),
        id=...)`; the pages translate the template and fill it in again."""
        return cls(template.format(**params), template, params)


class Unauthorized(ApiError):
    status_code = 401


class Forbidden(ApiError):
    status_code = 403


class NotFound(ApiError):
    status_code = 404


class Conflict(ApiError):
    status_code = 409


class Gone(ApiError):
    """What existed and was withdrawn: a revoked certificate's PDF."""

    status_code = 410


class Locked(ApiError):
    status_code = 423


class TooManyRequests(ApiError):
    status_code = 429


class Unavailable(ApiError):
    status_code = 503


class FieldError(TypedDict):
    """One entry of a 422's `detail`, as FastAPI words a validation error."""

    loc: Sequence[str | int]
    msg: str
    type: str


class Invalid(ApiError):
    """422 in FastAPI's own shape, naming the field."""

    status_code = 422

    def __init__(self, loc: Sequence[str | int], msg: str, kind: str = "value_error", code: str | None = None,
                 params: dict | None = None) -> None:
        super().__init__(msg, code, params)
        self.errors: list[FieldError] = [{"loc": loc, "msg": msg, "type": kind}]


WORKFLOW_ERRORS: dict[str, type[ApiError]] = {WRONG_OFFICER: Forbidden, NOT_AWAITING: Conflict}
WORKFLOW_INVALID = {WRONG_AMOUNT: ["body", "amount"], REASON_REQUIRED: ["body", "reason"],
                    TEXT_REQUIRED: ["body", "text"], TEXT_EN_REQUIRED: ["body", "text_en"]}


def from_update_failure(err: WorkflowUpdateFailedError) -> ApiError:
    """The workflow's refusal as an API error of its kind, its code and parameters carried along."""
    cause = err.cause
    if isinstance(cause, ApplicationError):
        refusal, params = refusal_of(cause) or (None, None)
        code = refusal.value if refusal else None
        if cause.type in WORKFLOW_INVALID:
            return Invalid(WORKFLOW_INVALID[cause.type], cause.message, code=code, params=params)
        return WORKFLOW_ERRORS.get(cause.type or "", Conflict)(cause.message, code, params)
    return Conflict(str(cause or err))


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        body: dict = {"detail": exc.errors} if isinstance(exc, Invalid) else {"detail": exc.detail}
        if exc.code:  # beside the English detail, for a client that words it itself (the pages' own gateway)
            body |= {"code": exc.code, "params": exc.params or {}}
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        return JSONResponse(body, status_code=exc.status_code, headers=headers)

    @app.exception_handler(WorkflowUpdateFailedError)
    async def _update_failed(request: Request, exc: WorkflowUpdateFailedError) -> JSONResponse:
        return await _api_error(request, from_update_failure(exc))

    @app.exception_handler(RPCError)
    async def _rpc(request: Request, exc: RPCError) -> JSONResponse:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return await _api_error(request, NotFound("no such application"))
        return await _api_error(request, Unavailable("the workflow service is unavailable; try again"))

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, _: OperationalError) -> JSONResponse:
        """The database is restarting, failing over or refusing connections: a retry will do, as it does for the
        activities."""
        response = await _api_error(request, Unavailable("the database is unavailable; try again shortly"))
        response.headers["Retry-After"] = "2"
        return response

    @app.exception_handler(PoolTimeout)
    async def _overloaded(request: Request, _: PoolTimeout) -> JSONResponse:
        """Every database connection of this process stayed busy for the pool's timeout (bench/api.py: 100
        concurrent submitters on SQLite, whose writers queue one at a time): overloaded, so 503, not 500."""
        response = await _api_error(request, Unavailable("the service is overloaded; try again shortly"))
        response.headers["Retry-After"] = "2"
        return response

    @app.exception_handler(DataError)
    async def _unstorable(_: Request, exc: DataError) -> JSONResponse:
        """A NUL character that got past the schemas (a form field, say) reached PostgreSQL, which refuses it."""
        if "NUL" not in str(exc.orig):
            raise exc
        return JSONResponse({"detail": "text must not contain a NUL character (0x00)"}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)
