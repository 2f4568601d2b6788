"""`sonod verify`: the offline verifier (pinned root, cached signed lists, their age), and its refresh (issue 17)."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
import uvicorn
from fastapi import FastAPI, Response
from reportlab.lib.units import cm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas
from typer.testing import CliRunner

from infra.verify_cli import verify_app
from sonod.qr import qr_png
from tests.offline_kit import KEY, ROOT, TRUSTED, UNION, Root, issue, status_list

runner = CliRunner()
GOOD = issue(1)
REVOKED = issue(2)


def fresh() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=5)


def write_cache(folder: Path, *, signed_at: datetime | None = None, root: Root = ROOT, revoked=(2,)) -> Path:
    """A cache of lists signed at `signed_at` (5 minutes ago), in which PAIKKANDI-2026-000002 is revoked."""
    signed_at = signed_at or fresh()
    (folder / "status").mkdir(parents=True, exist_ok=True)
    (folder / "trust-list.jws").write_text(root.trust_list([TRUSTED], signed_at))
    (folder / "status" / f"{UNION}-2026.jws").write_text(status_list(list(revoked), signed_at))
    return folder


@pytest.fixture
def pinned(tmp_path: Path) -> Path:
    path = tmp_path / "root.jwk"
    path.write_text(json.dumps(ROOT.jwk))
    return path


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return write_cache(tmp_path / "trust")


def sonod_verify(*args: str | Path):
    return runner.invoke(verify_app, [str(arg) for arg in args])


def offline(source: str | Path, cache: Path, *more: str | Path, root: Path | None = None):
    root = root or cache.parent / "root.jwk"
    return sonod_verify(source, "--cache", cache, "--root", root, "--offline", *more)


# --- offline --------------------------------------------------------------------------------------


def test_a_genuine_certificate_is_valid_and_the_age_of_the_lists_is_said(cache, pinned):
    result = offline(GOOD, cache)
    assert result.exit_code == 0, result.output
    assert "VALID" in result.stdout and "PAIKKANDI-2026-000001" in result.stdout
    assert "0 h 05 min old" in result.stdout


def test_json_output_parses_and_carries_the_certificate(cache, pinned):
    result = offline(GOOD, cache, "--json")
    answer = json.loads(result.stdout)
    assert result.exit_code == 0
    assert answer["status"] == "valid" and answer["mode"] == "offline" and answer["kid"] == KEY.kid
    assert answer["certificate"]["certificate_no"] == "PAIKKANDI-2026-000001"
    assert answer["certificate"]["issued_on"] == "2026-03-14"
    assert answer["lists"]["trust_list_age"] == answer["lists"]["status_list_age"] == "0 h 05 min"


def test_a_tampered_certificate_is_invalid(cache, pinned):
    tampered = GOOD[:-20] + ("A" if GOOD[-20] != "A" else "B") + GOOD[-19:]
    result = offline(tampered, cache, "--json")
    answer = json.loads(result.stdout)
    assert result.exit_code == 1
    assert answer["status"] == "invalid" and answer["certificate"] is None and answer["reason"]


def test_garbage_is_invalid(cache, pinned):
    result = offline("hello", cache)
    assert result.exit_code == 1
    assert "INVALID" in result.stdout


def test_a_revoked_certificate_is_reported_revoked(cache, pinned):
    result = offline(REVOKED, cache, "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["status"] == "revoked"


def test_a_certificate_signed_by_a_key_outside_the_trust_list_is_invalid(cache, pinned):
    (cache / "trust-list.jws").write_text(ROOT.trust_list([], fresh()))
    (cache / "status" / f"{UNION}-2026.jws").unlink()
    result = offline(GOOD, cache, "--json")
    assert result.exit_code == 1
    assert "unknown signing key" in json.loads(result.stdout)["reason"]


def test_without_a_trust_list_nothing_can_be_verified(tmp_path, pinned):
    result = offline(GOOD, tmp_path / "missing")
    assert result.exit_code == 3
    assert "no cached trust list" in result.stderr


def test_without_a_pinned_root_nothing_can_be_verified(cache):
    result = offline(GOOD, cache, root=cache / "no-root.jwk")
    assert result.exit_code == 3
    assert "no pinned root" in result.stderr


def test_lists_signed_by_another_root_are_refused(tmp_path, pinned):
    cache = write_cache(tmp_path / "trust", root=Root())
    result = offline(GOOD, cache)
    assert result.exit_code == 3
    assert "pinned root" in result.stderr


def test_lists_older_than_the_set_age_are_refused(tmp_path, pinned):
    cache = write_cache(tmp_path / "trust", signed_at=datetime.now(UTC) - timedelta(days=4))
    result = offline(GOOD, cache)
    assert result.exit_code == 3
    assert "the trust list is 4 d 0 h old" in result.stderr and "--stale-ok" in result.stderr
    assert offline(GOOD, cache, "--max-age", "100").exit_code == 0


def test_stale_ok_decides_from_old_lists_and_says_so(tmp_path, pinned):
    cache = write_cache(tmp_path / "trust", signed_at=datetime.now(UTC) - timedelta(days=4))
    result = offline(REVOKED, cache, "--stale-ok", "--json")
    answer = json.loads(result.stdout)
    assert result.exit_code == 2 and answer["status"] == "revoked"
    assert "4 d 0 h old" in answer["reason"] and answer["lists"]["status_list_age"] == "4 d 0 h"


def test_without_the_status_list_of_its_union_and_year_no_verdict(cache, pinned):
    (cache / "status" / f"{UNION}-2026.jws").unlink()
    result = offline(GOOD, cache)
    assert result.exit_code == 3
    assert "no status list of paikkandi 2026" in result.stderr


def test_a_png_of_the_qr_is_read(cache, pinned, tmp_path):
    png = tmp_path / "qr.png"
    png.write_bytes(qr_png(GOOD))
    result = offline(png, cache)
    assert result.exit_code == 0, result.output


def test_a_pdf_with_the_qr_printed_at_3_cm_is_read(cache, pinned, tmp_path):
    pdf = tmp_path / "certificate.pdf"
    page = canvas.Canvas(str(pdf))
    page.drawString(2 * cm, 27 * cm, "Citizenship certificate")
    page.drawImage(ImageReader(io.BytesIO(qr_png(REVOKED))), 15 * cm, 2 * cm, width=3 * cm, height=3 * cm)
    page.save()
    result = offline(pdf, cache, "--json")
    assert result.exit_code == 2, result.output
    assert json.loads(result.stdout)["certificate"]["certificate_no"] == "PAIKKANDI-2026-000002"


def test_an_image_without_a_qr_cannot_be_verified(cache, pinned, tmp_path):
    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.new("L", (200, 200), 255).save(blank)
    result = offline(blank, cache)
    assert result.exit_code == 3
    assert "no QR code" in result.stderr


def test_mounted_without_a_name_it_is_sonod_verify(cache, pinned):
    sonod = typer.Typer()
    sonod.command("run")(lambda: None)
    sonod.add_typer(verify_app)
    result = runner.invoke(sonod, ["verify", GOOD, "--cache", str(cache), "--root", str(pinned), "--offline"])
    assert result.exit_code == 0, result.output


# --- online ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A sonod-like server whose lists, signed now, revoke PAIKKANDI-2026-000001."""
    app = FastAPI()
    jose = {"media_type": "application/jose"}
    app.get("/.well-known/sonod-trust-list.jws")(lambda: Response(ROOT.trust_list([TRUSTED], fresh()), **jose))
    app.get("/api/v1/status-lists")(lambda: {"lists": [{"union": UNION, "year": 2026, "iat": 0,
                                                        "url": f"/api/v1/status-lists/{UNION}/2026"}]})
    app.get(f"/api/v1/status-lists/{UNION}/2026")(lambda: Response(status_list([1], fresh()), **jose))
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


def test_refresh_caches_the_lists_checked_against_the_root_and_revocations_show(server, tmp_path, pinned):
    cache = tmp_path / "trust"
    assert sonod_verify("--refresh", "--server", server, "--cache", cache, "--root", pinned).exit_code == 0
    assert (cache / "trust-list.jws").exists() and (cache / "status" / f"{UNION}-2026.jws").exists()
    result = offline(GOOD, cache, "--json")
    assert result.exit_code == 2, result.output
    assert json.loads(result.stdout)["status"] == "revoked"


def test_by_default_the_lists_are_refreshed_first(server, tmp_path, pinned):
    result = sonod_verify(GOOD, "--cache", tmp_path / "trust", "--root", pinned, "--server", server, "--json")
    answer = json.loads(result.stdout)
    assert result.exit_code == 2, result.output
    assert answer["status"] == "revoked" and answer["mode"] == "online"


def test_lists_from_a_server_the_pinned_root_does_not_vouch_for_are_not_cached(server, tmp_path):
    other = tmp_path / "other-root.jwk"
    other.write_text(json.dumps(Root().jwk))
    cache = tmp_path / "trust"
    result = sonod_verify("--refresh", "--server", server, "--cache", cache, "--root", other)
    assert result.exit_code == 3 and "does not vouch" in result.stderr
    assert not (cache / "trust-list.jws").exists() and not (cache / "status").exists()


def test_offline_never_touches_the_server(server, cache, pinned):
    before = (cache / "trust-list.jws").read_text(), (cache / "status" / f"{UNION}-2026.jws").read_text()
    result = sonod_verify(GOOD, "--cache", cache, "--root", pinned, "--server", server, "--offline", "--json")
    assert result.exit_code == 0  # the server would have said revoked
    assert json.loads(result.stdout)["mode"] == "offline"
    assert ((cache / "trust-list.jws").read_text(), (cache / "status" / f"{UNION}-2026.jws").read_text()) == before


def test_when_the_server_does_not_answer_the_cache_decides(dead_server, cache, pinned):
    result = sonod_verify(GOOD, "--cache", cache, "--root", pinned, "--server", dead_server, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["mode"] == "offline"
    assert "offline" in result.stderr


def test_refresh_demanded_but_the_server_does_not_answer(dead_server, cache, pinned):
    result = sonod_verify(GOOD, "--cache", cache, "--root", pinned, "--server", dead_server, "--refresh")
    assert result.exit_code == 3
    assert "did not answer" in result.stderr
