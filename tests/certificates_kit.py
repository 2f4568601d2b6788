"""Issuing real certificates for the tests and reading them back as a verifier would: off the printed page."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import cbor2

from activities.templates.samples import DETAILS
from sonod.catalogue import BY_CODE
from sonod.domain import Status
from tests.stack import PORTAL_KEY, ROOT, ZBARIMG, citizen, people, warish_details
from tests.unions_kit import add_union

PORTAL = {"X-API-Key": PORTAL_KEY}
QR_DPI = 150
REGISTRY_UNION = "raghunathpur"  # where the applicants live in the NID registry; they apply in the test's own union


@dataclass
class Issued:
    certificate_no: str
    person: dict
    pdf: Path
    qr: str  # as zbarimg reads it from a 150-dpi render of the PDF
    text: str  # pdftotext of the PDF

    @property
    def payload(self) -> str:
        return self.qr.split("?c=", 1)[1]


async def run(*argv: str | Path, env: dict | None = None, check: bool = True) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(*map(str, argv), stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE, env=env, cwd=ROOT)
    out, err = await proc.communicate()
    if check and proc.returncode != 0:
        raise AssertionError(f"{argv[0]} exited {proc.returncode}: {err.decode()}")
    return proc.returncode, out.decode()


async def pay(stack, settings, application_id: str, amount: int) -> None:
    raw = json.dumps({"application_id": application_id, "amount": amount, "currency": "BDT",
                      "transaction_id": f"tx-{application_id}"}).encode()
    signature = hmac.new(settings.payment_secret.encode(), raw, hashlib.sha256).hexdigest()
    r = await stack.http.post("/api/v1/payments/callback", content=raw,
                              headers={"X-Signature": signature, "Content-Type": "application/json"})
    assert r.status_code == 200, r.text


def details_for(certificate_type: str) -> dict:
    return warish_details() if certificate_type == "warish" else DETAILS.get(certificate_type,
                                                                              BY_CODE[certificate_type].sample)


async def own_union(settings, slug: str) -> str:
    await asyncio.to_thread(add_union, settings.db_url, slug)
    return slug


def application(union: str, index: int, certificate_type: str = "citizenship", details: dict | None = None) -> dict:
    body = citizen(REGISTRY_UNION, index, certificate_type)
    return body | {"union": union, "details": details or details_for(certificate_type)}


async def issue(stack, settings, tmp: Path, union: str, index: int = 0, certificate_type: str = "citizenship",
                details: dict | None = None) -> Issued:
    """Submit for a real person of the registry, pay any fee, pass the whole chain, download and read the PDF."""
    person = people(REGISTRY_UNION)[index]
    kind = BY_CODE[certificate_type]
    app_id = await stack.submitted(application(union, index, certificate_type, details))
    if kind.fee:
        await stack.wait_for(app_id, Status.AWAITING_PAYMENT)
        await pay(stack, settings, app_id, kind.fee)
    details = details or details_for(certificate_type)
    text = details.get("statement_bn") if certificate_type == "misc_attestation" else None  # the secretary writes it
    app = await stack.through_chain(app_id, union, list(kind.chain), person["ward_no"], text)
    return await download(stack, tmp, app["certificate_no"], person)


async def download(stack, tmp: Path, certificate_no: str, person: dict | None = None) -> Issued:
    r = await stack.http.get(f"/api/v1/certificates/{certificate_no}/pdf", headers=PORTAL)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf", r.text
    assert r.content.startswith(b"%PDF-")
    pdf = tmp / f"{certificate_no}.pdf"
    pdf.write_bytes(r.content)
    _, text = await run("pdftotext", "-layout", pdf, "-")
    return Issued(certificate_no, person or {}, pdf, await qr_of_pdf(pdf), text)


async def render_pages(pdf: Path, dpi: int = QR_DPI) -> list[Path]:
    stem = pdf.with_suffix("")
    await run("pdftoppm", "-png", "-r", str(dpi), pdf, f"{stem}-p")
    return sorted(pdf.parent.glob(f"{stem.name}-p*.png"))


async def qr_of_pdf(pdf: Path) -> str:
    """The QR's text as a phone would read it off the printed page: rendered at 150 dpi, decoded by zbarimg."""
    found = []
    for page in await render_pages(pdf):  # the QR sits on the last page of a long warish
        code, out = await run(*ZBARIMG, "-Sdisable", "-Sqrcode.enable", page, check=False)
        if code == 0:
            found += out.split()
    assert len(found) == 1, f"expected one QR in {pdf.name}, found {len(found)}"
    return found[0]


async def verify(stack, qr: str) -> dict:
    r = await stack.http.post("/api/v1/verify", json={"qr": qr})
    assert r.status_code == 200, r.text
    return r.json()


def with_payload(issued: Issued, payload: str) -> str:
    return issued.qr.split("?c=", 1)[0] + "?c=" + payload


def cose_of(payload: str) -> list:
    return cbor2.loads(zlib.decompress(base64.b32decode(payload + "=" * (-len(payload) % 8)))).value


def payload_of(parts: list) -> str:
    cose = cbor2.dumps(cbor2.CBORTag(18, parts))
    return base64.b32encode(zlib.compress(cose, 9)).decode().rstrip("=")


def claims_with(parts: list, label, value) -> list:
    claims = cbor2.loads(parts[2])
    claims[label] = value
    return [parts[0], parts[1], cbor2.dumps(claims), parts[3]]


def sonod_env(settings, **extra: str) -> dict:
    return {**os.environ, "SONOD_DATABASE_URL": settings.db_url, "SONOD_VAR_DIR": str(settings.var_dir), **extra}


async def revoke(stack, officer: str, certificate_no: str, reason: str = "issued on a forged death certificate"):
    return await stack.http.post(f"/api/v1/certificates/{certificate_no}/revoke", json={"reason": reason},
                                 headers=await stack.as_officer(officer))
