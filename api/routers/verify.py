from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from api.deps import DbSession
from api.schemas import VerifyIn, VerifyOut
from api.services import certificates
from api.services.status_lists import offline_data
from api.verification import Verifier
from sonod.bengali import DHAKA, format_date_bn
from sonod.signing import jwks

router = APIRouter(tags=["verification"])

# The public page runs only its own scripts (static/scan.js and the decoder it loads from static/vendor/, and
# static/verify-offline.js, which fetches the signed lists from this site and registers the page's service worker,
# api/routers/verify_app.py) and may use the camera for the scan; it sends nothing anywhere and may not be framed.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self'; "
                               "connect-src 'self'; manifest-src 'self'; worker-src 'self'; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
    "Cache-Control": "no-store",  # a revocation must show at once
    "Referrer-Policy": "no-referrer",  # the URL carries the holder's name
}


def keys(request: Request):
    return request.app.state.keys


def verifier(request: Request) -> Verifier:
    return request.app.state.verifier


@router.post("/api/v1/verify", response_model=VerifyOut)
async def verify_api(body: VerifyIn, request: Request) -> JSONResponse:
    """Public: is this QR a genuine sonod, unrevoked and within its signed validity?"""
    # `async` and from memory (api/verification.py): no thread, no database on the way of a known certificate
    answer = await verifier(request).check(body.qr)
    return JSONResponse({"status": answer.status, "certificate": answer.certificate, "reason": answer.reason})


@router.get("/.well-known/jwks.json")
def trust_list(request: Request) -> dict:
    """Every union's public keys, retired ones included, with their validity (nbf/exp)."""
    return jwks(keys(request).trusted_keys())


@router.get("/api/v1/revocations")
def revocations(session: DbSession) -> dict:
    """Hashes of revoked certificate numbers, for offline verifiers to sync."""
    return certificates.revocations(session)


@router.get("/verify", response_class=HTMLResponse, include_in_schema=False)
async def verify_page(request: Request, c: Annotated[str | None, Query(max_length=8000)] = None,
                      qr: Annotated[str | None, Query(max_length=8000)] = None) -> HTMLResponse:
    """The page a phone opens from the QR (`/verify?c=<payload>`), and a form to paste a QR's text."""
    text = c or qr
    result = await verifier(request).check(text) if text else None
    offline = await offline_data(request)  # the root and the names, for verifying on the phone
    page = request.app.state.templates.TemplateResponse(
        request, "verify.html", {"result": result, "qr": text or "", "dates": _dates(result), "offline": offline})
    page.headers.update(PAGE_HEADERS)
    return page


def _dates(result: VerifyOut | None) -> dict[str, tuple[str, str]]:
    """The certificate's dates, (Bengali, English), for the page. The validity's last day is the one the paper prints:
    the day in Bangladesh that ends when `valid_until` comes."""
    certificate = result.certificate if result else None
    dates = {}
    for field in ("issued_on", "revoked_at", "valid_until"):
        if certificate and certificate.get(field):
            day = date.fromisoformat(certificate[field][:10])
            if field == "valid_until":
                day = (datetime.fromisoformat(certificate[field]) - timedelta(seconds=1)).astimezone(DHAKA).date()
            dates[field] = (format_date_bn(day), f"{day.day} {day:%B %Y}")
    return dates
