"""What every page shares: templates, language, CSRF tokens, the officer's session cookie, and errors as pages.

Officers log in through a form that stores the same bearer token `/api/v1/auth/token` issues in an HttpOnly,
SameSite=Strict cookie; each form carries a CSRF token, the HMAC of a random per-browser cookie and of that
session token (a signed double-submit cookie), so a token leaks nothing and dies with the session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import jinja2
from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from api.deps import DbSession, SettingsDep, client_ip
from api.errors import ApiError, Forbidden, Invalid, Unauthorized
from api.pages import forms
from api.pages.i18n import LANGS, Words
from api.services import sessions
from sonod import db
from sonod.domain import Role
from sonod.security import read_token
from workflows.messages import Actor

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"
TOKEN_COOKIE, CSRF_COOKIE, LANG_COOKIE = "sonod_session", "sonod_csrf", "sonod_lang"
WEB_PORTAL = "portal:sonod-web"

templates = Jinja2Templates(env=jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True,
    extensions=["jinja2.ext.i18n"]))
templates.env.globals.update(value_at=forms.value_at, rows_of=forms.rows_of)
# `_()` and `{% trans %}` format with keywords (`_("by %(d)s", d=...)`); each page brings its language's gettext
templates.env.newstyle_gettext = True  # type: ignore[attr-defined]


def _newstyle(translate):
    """A catalogue's gettext as Jinja's new-style `_()` calls it: the translation is trusted markup, the values it
    is filled in with are escaped."""

    @jinja2.pass_context
    def gettext(context, message: str, **variables) -> str:
        text = translate(message)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables if variables else text

    return gettext


def _newstyle_plural(translate):
    @jinja2.pass_context
    def ngettext(context, singular: str, plural: str, n: int, **variables) -> str:
        text = translate(singular, plural, n)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % ({"num": n} | variables)

    return ngettext


def web_portal(request: Request) -> Actor:
    """The citizen portal's own actor: the page is trusted server code that submits on the citizen's behalf."""
    return Actor(username=WEB_PORTAL, role=Role.PORTAL, ip=client_ip(request))


def citizen(request: Request, mobile: str) -> Actor:
    """The citizen on the tracking page, who proved the application number with this mobile number; the workflow
    checks the number against the application's own."""
    return Actor(username="citizen", role=Role.CITIZEN, mobile=mobile, ip=client_ip(request))


def base(request: Request) -> str:
    """The prefix of this union's pages: `/unions/<slug>` by path, or nothing on `<slug>.<base domain>`."""
    return request.scope.get("root_path", "").rstrip("/")


# --- language -----------------------------------------------------------------------------------

def language(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked
    cookie = request.cookies.get(LANG_COOKIE)
    return cookie if cookie in LANGS else "bn"


# --- CSRF -----------------------------------------------------------------------------------------

def _browser_secret(request: Request) -> str:
    if not hasattr(request.state, "csrf_cookie"):
        request.state.csrf_cookie = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    return request.state.csrf_cookie


def csrf_token(request: Request) -> str:
    settings = request.app.state.settings
    message = f"csrf|{_browser_secret(request)}|{request.cookies.get(TOKEN_COOKIE, '')}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()[:40]


class BadCsrf(ApiError):
    status_code = 403


async def check_csrf(request: Request) -> None:
    """Forms must carry the token this browser (and this officer's session) was given."""
    form = await request.form()
    given = str(form.get("csrf", ""))
    if CSRF_COOKIE not in request.cookies or not hmac.compare_digest(given, csrf_token(request)):
        raise BadCsrf("bad_csrf")


Csrf = Depends(check_csrf)


# --- officers' session cookie -------------------------------------------------------------------------

class LoginNeeded(Exception):
    pass


def _page_officer(request: Request, session: DbSession, settings: SettingsDep) -> Actor:
    token = request.cookies.get(TOKEN_COOKIE)
    if not token:
        raise LoginNeeded()
    try:
        return sessions.officer_of(session, settings, token, client_ip(request))
    except Unauthorized:
        raise LoginNeeded() from None


PageOfficer = Annotated[Actor, Depends(_page_officer)]


def set_session_cookie(response: Response, request: Request, token: str, max_age: int) -> None:
    response.set_cookie(TOKEN_COOKIE, token, max_age=max_age, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")


def session_id(request: Request) -> str | None:
    try:
        return read_token(request.app.state.settings.secret_key, request.cookies.get(TOKEN_COOKIE, ""))["sid"]
    except Exception:  # noqa: BLE001 - no valid session is simply none
        return None


# --- rendering ----------------------------------------------------------------------------------------

def give_csrf_cookie(request: Request, response: Response) -> None:
    """The browser's CSRF secret, when it has not got it yet (the tokens in the page's forms are made from it)."""
    if request.cookies.get(CSRF_COOKIE) != _browser_secret(request):
        response.set_cookie(CSRF_COOKIE, _browser_secret(request), httponly=True, samesite="strict", path="/",
                            secure=request.url.scheme == "https", max_age=30 * 86400)


def render(request: Request, template: str, context: dict[str, Any] | None = None,
           status_code: int = 200) -> HTMLResponse:
    lang = language(request)
    words = Words(lang)
    ctx = {"t": words, "gettext": _newstyle(words.gettext), "ngettext": _newstyle_plural(words.ngettext),
           "lang": lang, "base": base(request), "csrf": csrf_token(request), "now": db.utcnow(),
           "path": request.url.path} | (context or {})
    response = templates.TemplateResponse(request, template, ctx, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    give_csrf_cookie(request, response)
    if request.query_params.get("lang") in LANGS and request.cookies.get(LANG_COOKIE) != lang:
        response.set_cookie(LANG_COOKIE, lang, samesite="lax", path="/", max_age=365 * 86400)
    return response


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


ERROR_TITLES = {401: "login", 403: "forbidden", 404: "not_found", 409: "conflict", 422: "error"}


def error_page(request: Request, exc: ApiError) -> HTMLResponse:
    """The error as a page, in the reader's words (`Words.error`: by its refusal's code, else its detail)."""
    return render(request, "error.html", {"title_key": ERROR_TITLES.get(exc.status_code, "error"),
                                          "message": exc}, status_code=exc.status_code)


class PageRoute(APIRoute):
    """Pages answer errors with pages: typed API errors become an HTML message, a missing session the log-in."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginNeeded:
                target = f"{base(request)}{request.url.path}"
                response = redirect(f"/dashboard/login?next={quote(target)}")
                response.delete_cookie(TOKEN_COOKIE, path="/")
                return response
            except ApiError as exc:
                return error_page(request, exc)
            except RequestValidationError as exc:
                problem = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in exc.errors())
                return error_page(request, Invalid(["body"], problem))

        return page_handler


def require_role(actor: Actor, allowed: set[Role]) -> None:
    if actor.role not in allowed:
        raise Forbidden(f"{actor.username} ({actor.role.value}) may not use this page")


async def form_items(request: Request) -> list[tuple[str, str]]:
    form = await request.form()
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]


def local_next(url: str | None, default: str) -> str:
    """Only paths on this site: never an open redirect."""
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return default

