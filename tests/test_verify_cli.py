"""`sonod verify`: the offline verifier, and its online refresh of the trust list."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import typer
import uvicorn
from fastapi import FastAPI
from reportlab.lib.units import cm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas
from typer.testing import CliRunner

from infra.verify_cli import verify_app
from sonod.qr import qr_png
from sonod.signing import (
    CertificateClaims,
    TrustedKey,
    content_hash,
    jwks,
    new_signing_key,
    qr_text,
    revocation_list,
    sign_payload,
)

URL = "http://127.0.0.1:8000/verify"
KEY_BORN = datetime(2026, 1, 1, tzinfo=UTC)
ISSUED_AT = datetime(2026, 3, 14, 10, 30, tzinfo=UTC)
KEY = new_signing_key("paikkandi", KEY_BORN)
TRUSTED = TrustedKey(KEY.kid, "paikkandi", KEY.public_raw, KEY_BORN)
runner = CliRunner()


def issue(certificate_no: str) -> str:
    claims = CertificateClaims(
        certificate_no=certificate_no,
        certificate_type="citizenship",
        union="paikkandi",
        name_bn="মোছাম্মৎ ফাতেমা খাতুন",
        name_en="Mosammat Fatema Khatun",
        issued_on=date(2026, 3, 14),
        content_hash=content_hash({"certificate_no": certificate_no}),
    )
    return qr_text(URL, sign_payload(claims, KEY.private_raw, KEY.kid, ISSUED_AT))


GOOD = issue("PKD-2026-000001")
REVOKED = issue("PKD-2026-000002")


@pytest.fixture
def trust_list(tmp_path: Path) -> Path:
    """A cached trust list in which PKD-2026-000002 is revoked."""
    path = tmp_path / "trust" / "jwks.json"
    path.parent.mkdir()
    path.write_text(json.dumps(jwks([TRUSTED])))
    (path.parent / "revocations.json").write_text(json.dumps(revocation_list(["PKD-2026-000002"], ISSUED_AT)))
    return path


def sonod_verify(*args: str | Path):
    return runner.invoke(verify_app, [str(arg) for arg in args])


def offline(source: str | Path, trust_list: Path, *more: str):
    return sonod_verify(source, "--trust-list", trust_list, "--offline", *more)


# --- offline --------------------------------------------------------------------------------------


def test_a_genuine_certificate_is_valid(trust_list):
    result = offline(GOOD, trust_list)
    assert result.exit_code == 0, result.output
    assert "VALID" in result.stdout and "PKD-2026-000001" in result.stdout


def test_json_output_parses_and_carries_the_certificate(trust_list):
    result = offline(GOOD, trust_list, "--json")
    answer = json.loads(result.stdout)
    assert result.exit_code == 0
    assert answer["status"] == "valid" and answer["mode"] == "offline" and answer["kid"] == KEY.kid
    assert answer["certificate"]["certificate_no"] == "PKD-2026-000001"
    assert answer["certificate"]["issued_on"] == "2026-03-14"


def test_a_tampered_certificate_is_invalid(trust_list):
    tampered = GOOD[:-20] + ("A" if GOOD[-20] != "A" else "B") + GOOD[-19:]
    result = offline(tampered, trust_list, "--json")
    answer = json.loads(result.stdout)
    assert result.exit_code == 1
    assert answer["status"] == "invalid" and answer["certificate"] is None and answer["reason"]


def test_garbage_is_invalid(trust_list):
    result = offline("hello", trust_list)
    assert result.exit_code == 1
    assert "INVALID" in result.stdout


def test_a_revoked_certificate_is_reported_revoked(trust_list):
    result = offline(REVOKED, trust_list, "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["status"] == "revoked"


def test_a_certificate_signed_by_an_unknown_key_is_invalid(tmp_path):
    empty = tmp_path / "jwks.json"
    empty.write_text(json.dumps(jwks([])))
    result = offline(GOOD, empty, "--json")
    assert result.exit_code == 1
    assert "unknown signing key" in json.loads(result.stdout)["reason"]


def test_without_a_trust_list_nothing_can_be_verified(tmp_path):
    result = offline(GOOD, tmp_path / "missing.json")
    assert result.exit_code == 3
    assert "no cached trust list" in result.stderr


def test_a_png_of_the_qr_is_read(trust_list, tmp_path):
    png = tmp_path / "qr.png"
    png.write_bytes(qr_png(GOOD))
    result = offline(png, trust_list)
    assert result.exit_code == 0, result.output


def test_a_pdf_with_the_qr_printed_at_3_cm_is_read(trust_list, tmp_path):
    pdf = tmp_path / "certificate.pdf"
    page = canvas.Canvas(str(pdf))
    page.drawString(2 * cm, 27 * cm, "Citizenship certificate")
    page.drawImage(ImageReader(io.BytesIO(qr_png(REVOKED))), 15 * cm, 2 * cm, width=3 * cm, height=3 * cm)
    page.save()
    result = offline(pdf, trust_list, "--json")
    assert result.exit_code == 2, result.output
    assert json.loads(result.stdout)["certificate"]["certificate_no"] == "PKD-2026-000002"


def test_an_image_without_a_qr_cannot_be_verified(trust_list, tmp_path):
    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.new("L", (200, 200), 255).save(blank)
    result = offline(blank, trust_list)
    assert result.exit_code == 3
    assert "no QR code" in result.stderr


def test_mounted_without_a_name_it_is_sonod_verify(trust_list):
    sonod = typer.Typer()
    sonod.command("run")(lambda: None)
    sonod.add_typer(verify_app)
    result = runner.invoke(sonod, ["verify", GOOD, "--trust-list", str(trust_list), "--offline"])
    assert result.exit_code == 0, result.output


# --- online ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A sonod-like server whose trust list knows KEY and whose revocation list revokes PKD-2026-000001."""
    app = FastAPI()
    app.get("/.well-known/jwks.json")(lambda: jwks([TRUSTED]))
    app.get("/api/v1/revocations")(lambda: revocation_list(["PKD-2026-000001"], ISSUED_AT))
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.01)
    port = uv.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(5)


@pytest.fixture
def dead_server() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_online_the_cache_is_refreshed_and_revocations_are_reported(server, tmp_path):
    cache = tmp_path / "trust" / "jwks.json"
    result = sonod_verify(GOOD, "--trust-list", cache, "--server", server, "--json")
    answer = json.loads(result.stdout)
    assert result.exit_code == 2, result.output
    assert answer["status"] == "revoked" and answer["mode"] == "online"
    assert KEY.kid in cache.read_text()
    assert json.loads((cache.parent / "revocations.json").read_text())["type"] == "sonod-revocation-list"


def test_offline_never_touches_the_server(server, trust_list):
    before = trust_list.read_text(), (trust_list.parent / "revocations.json").read_text()
    result = sonod_verify(GOOD, "--trust-list", trust_list, "--server", server, "--offline", "--json")
    assert result.exit_code == 0  # the server would have said revoked
    assert json.loads(result.stdout)["mode"] == "offline"
    assert (trust_list.read_text(), (trust_list.parent / "revocations.json").read_text()) == before


def test_when_the_server_does_not_answer_the_cache_decides(dead_server, trust_list):
    result = sonod_verify(GOOD, "--trust-list", trust_list, "--server", dead_server, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["mode"] == "offline"
    assert "offline" in result.stderr


def test_online_demanded_but_the_server_does_not_answer(dead_server, trust_list):
    result = sonod_verify(GOOD, "--trust-list", trust_list, "--server", dead_server, "--online")
    assert result.exit_code == 3
    assert "did not answer" in result.stderr
