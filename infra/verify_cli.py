"""`sonod verify`: check a certificate's QR code against a cached trust list, with no network needed.

    sonod verify 'http://127.0.0.1:8000/verify?c=...'     # the QR's text
    sonod verify certificate.pdf                          # or a PDF, PNG or JPEG of the certificate
    sonod verify scan.jpg --offline --json                # never touch the network; machine-readable

Online (the default when --server answers), the trust list (JWKS) and the revocation list are first
refreshed from the server into the cache; offline, the cache alone decides.
Exit codes: 0 valid, 1 invalid, 2 revoked, 4 expired (genuine, but its signed validity has passed; a revoked
certificate is revoked whatever its validity); 3 could not verify (no trust list, an unreadable file, or the server
down with --online).
Mount it on the main app without a name, `app.add_typer(verify_app)`, to get `sonod verify`.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.markup import escape

from sonod.settings import ROOT
from sonod.signing import (
    REVOCATION_LIST_TYPE,
    TrustedKey,
    Verification,
    is_revoked,
    trusted_keys_from_jwks,
    verify_qr_text,
)

DEFAULT_TRUST_LIST = ROOT / "var" / "trust" / "jwks.json"
REVOCATIONS_FILE = "revocations.json"
JWKS_PATH = "/.well-known/jwks.json"
REVOCATIONS_PATH = "/api/v1/revocations"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}


class Verdict(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    EXPIRED = "expired"
    INVALID = "invalid"


class Exit(IntEnum):
    VALID = 0
    INVALID = 1
    REVOKED = 2
    CANNOT_VERIFY = 3
    EXPIRED = 4


class CannotVerify(Exception):
    """No verdict is possible: the input cannot be read or there is nothing to check it against."""


verify_app = typer.Typer(add_completion=False, help="Verify a sonod certificate: its signature against the unions' "
                         "keys, then revocation and validity (online by default; --offline from the cache).")


@verify_app.command()
def verify(
    source: Annotated[str, typer.Argument(help="The QR text, or the path of a PNG/JPEG image or PDF.")],
    trust_list: Annotated[
        Path, typer.Option(envvar="SONOD_TRUST_LIST", help="Cached JWKS; the revocation list sits beside it.")
    ] = DEFAULT_TRUST_LIST,
    server: Annotated[str, typer.Option(envvar="SONOD_PUBLIC_URL", help="Where to refresh the cache.")] = (
        "http://127.0.0.1:8000"
    ),
    online: Annotated[
        bool | None, typer.Option("--online/--offline", help="Refresh first. Default: online if the server answers.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
) -> None:
    """Check the signature of a certificate's QR code; report VALID, REVOKED, EXPIRED or INVALID."""
    notes = Console(stderr=True)
    revocations_file = trust_list.parent / REVOCATIONS_FILE
    mode = "offline"
    try:
        text = read_qr(source)
        if online is not False:
            try:
                refresh(server, trust_list, revocations_file)
                mode = "online"
            except CannotVerify as exc:
                if online:
                    raise
                notes.print(f"[yellow]offline:[/] {escape(str(exc))}; using the cached trust list")
        keys = load_trust_list(trust_list)
        revocations = load_revocations(revocations_file)
    except CannotVerify as exc:
        notes.print(f"[bold red]cannot verify:[/] {escape(str(exc))}")
        raise typer.Exit(Exit.CANNOT_VERIFY) from None

    result = verify_qr_text(text, keys.get)
    verdict, reason = Verdict.VALID if result.valid else Verdict.INVALID, result.reason
    if result.claims is not None and revocations is not None and is_revoked(result.claims.certificate_no, revocations):
        verdict, reason = Verdict.REVOKED, f"revoked (revocation list of {revocations.get('generated_at')})"
    elif verdict is Verdict.VALID and result.expired:
        verdict, reason = Verdict.EXPIRED, f"expired: its signed validity ended at {result.claims.valid_until}"
    if verdict in (Verdict.VALID, Verdict.EXPIRED) and revocations is None:
        reason += "; revocation not checked (no cached revocation list)"

    if as_json:
        typer.echo(json.dumps(_answer(verdict, reason, result, mode), ensure_ascii=False))
    else:
        _print(Console(), verdict, reason, result, mode)
    raise typer.Exit(Exit[verdict.name])


# --- reading the QR -------------------------------------------------------------------------------


def read_qr(source: str) -> str:
    """The text of the QR: the argument itself, or the first QR code found in an image or a PDF.

    A certificate's QR is on its last page (a long warish runs to several), so a PDF is read from the end."""
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES | {".pdf"}:
        return source
    if not path.is_file():
        raise CannotVerify(f"no such file: {path}")
    if suffix == ".pdf":
        with tempfile.TemporaryDirectory() as tmp:
            pages = _render_pages(path, Path(tmp))
            for page in reversed(pages[1:]):
                try:
                    return _decode_image(page)
                except CannotVerify:
                    continue
            return _decode_image(pages[0])
    return _decode_image(path)


def _render_pages(pdf: Path, out_dir: Path, max_pages: int = 20) -> list[Path]:
    cmd = ["pdftoppm", "-png", "-r", "200", "-f", "1", "-l", str(max_pages), str(pdf), str(out_dir / "page")]
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    except FileNotFoundError:
        raise CannotVerify("pdftoppm is not installed (apt-get install poppler-utils)") from None
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        raise CannotVerify(f"pdftoppm could not render {pdf}") from None
    pages = sorted(out_dir.glob("page*.png"))  # page-01.png … page-12.png: zero-padded, so they sort
    if not pages:
        raise CannotVerify(f"{pdf} has no pages")
    return pages


def _decode_image(path: Path) -> str:
    from PIL import Image, UnidentifiedImageError  # lazy: only images need Pillow

    try:
        from pyzbar.pyzbar import ZBarSymbol, decode  # lazy: only images need zbar, which may be missing
    except ImportError as exc:  # pyzbar, or the zbar shared library it loads
        raise CannotVerify(f"cannot decode images: {exc}") from None
    try:
        with Image.open(path) as image:
            symbols = decode(image.convert("L"), symbols=[ZBarSymbol.QRCODE])
    except (OSError, UnidentifiedImageError):
        raise CannotVerify(f"{path} is not a readable image") from None
    if not symbols:
        raise CannotVerify(f"no QR code found in {path}")
    return symbols[0].data.decode("utf-8", errors="replace")


# --- the cache ------------------------------------------------------------------------------------


def refresh(server: str, trust_list: Path, revocations_file: Path) -> None:
    """Fetch the server's JWKS and revocation list, check their shape, and replace the cache."""
    try:
        with httpx.Client(base_url=server, timeout=httpx.Timeout(10.0, connect=3.0)) as http:
            keys = http.get(JWKS_PATH).raise_for_status().json()
            revocations = http.get(REVOCATIONS_PATH).raise_for_status().json()
        trusted_keys_from_jwks(keys)
        _check_revocations(revocations)
    except httpx.HTTPError as exc:
        raise CannotVerify(f"{server} did not answer: {exc}") from None
    except ValueError as exc:  # JSON errors included
        raise CannotVerify(f"{server} sent a malformed trust list: {exc}") from None
    _write_atomically(trust_list, keys)
    _write_atomically(revocations_file, revocations)


def load_trust_list(path: Path) -> dict[str, TrustedKey]:
    try:
        return trusted_keys_from_jwks(json.loads(path.read_text()))
    except FileNotFoundError:
        raise CannotVerify(f"no cached trust list at {path}; run once with --online") from None
    except (OSError, ValueError) as exc:
        raise CannotVerify(f"the trust list {path} is unreadable: {exc}") from None


def load_revocations(path: Path) -> dict[str, Any] | None:
    try:
        return _check_revocations(json.loads(path.read_text()))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise CannotVerify(f"the revocation list {path} is unreadable: {exc}") from None


def _check_revocations(doc: Any) -> dict[str, Any]:
    if not (isinstance(doc, dict) and doc.get("type") == REVOCATION_LIST_TYPE and isinstance(doc.get("hashes"), list)):
        raise ValueError("not a sonod revocation list")
    return doc


def _write_atomically(path: Path, doc: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1))
    tmp.replace(path)


# --- the verdict ----------------------------------------------------------------------------------


def _answer(verdict: Verdict, reason: str, result: Verification, mode: str) -> dict[str, Any]:
    certificate = result.claims.model_dump(mode="json") if result.claims is not None else None
    return {"status": verdict.value, "reason": reason, "kid": result.kid, "certificate": certificate, "mode": mode}


_STYLE = {Verdict.VALID: "bold green", Verdict.REVOKED: "bold yellow", Verdict.EXPIRED: "bold yellow",
          Verdict.INVALID: "bold red"}


def _print(console: Console, verdict: Verdict, reason: str, result: Verification, mode: str) -> None:
    console.print(f"[{_STYLE[verdict]}]{verdict.name}[/]  {escape(reason)}", highlight=False)
    if result.claims is not None:
        c = result.claims
        for label, value in [
            ("certificate", f"{c.certificate_no} ({c.certificate_type})"),
            ("union", c.union),
            ("name", f"{c.name_bn} / {c.name_en}"),
            ("issued on", c.issued_on.isoformat()),
            ("valid until", c.valid_until.isoformat() if c.valid_until else "no end"),
            ("content hash", c.content_hash.hex()),
            ("signing key", result.kid),
        ]:
            console.print(f"  [dim]{label:>12}[/]  {escape(str(value))}", highlight=False)
    console.print(f"  [dim]{'checked':>12}[/]  {mode}", highlight=False)
