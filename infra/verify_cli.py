"""`sonod verify`: check a certificate's QR code with no network, against the pinned sonod root and cached lists.

    sonod keys root --out var/trust/root.jwk              # once, from the deployment: pin its root (or ship the file)
    sonod verify --refresh --server https://sonod.example  # download the lists, check them against the root, cache them
    sonod verify 'http://127.0.0.1:8000/verify?c=...'     # the QR's text
    sonod verify certificate.pdf --offline --json         # or a PDF, PNG or JPEG; never touch the network

The cache (`--cache`, var/trust/) holds the trust list (the unions' keys, signed by the root) and each union's
status lists (signed by the union); every use checks them again against the pinned root (`--root`), which a
refresh never writes: a root fetched from the server being checked would vouch for nothing. The answer says how
old the lists are, and lists older than `--max-age` hours are refused unless `--stale-ok`.

By default the cache is refreshed first when --server answers, and the cache decides when it does not; `--offline`
never touches the network; `--refresh` (or `--online`) fails unless the refresh succeeds.
Exit codes: 0 valid, 1 invalid, 2 revoked, 4 expired (genuine, but its signed validity has passed; a revoked
certificate is revoked whatever its validity); 3 could not verify (no pinned root or cached lists, lists too old,
no status list for the certificate's union and year, an unreadable file, or the server down with --refresh).
Mount it on the main app without a name, `app.add_typer(verify_app)`, to get `sonod verify`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.markup import escape

from sonod.offline import (
    Answer,
    ListError,
    StatusList,
    TrustList,
    Verdict,
    age,
    judge,
    read_status_list,
    read_trust_list,
)
from sonod.settings import ROOT

DEFAULT_CACHE = ROOT / "var" / "trust"
DEFAULT_ROOT = ROOT / "var" / "trust" / "root.jwk"
TRUST_LIST_FILE = "trust-list.jws"
STATUS_DIR = "status"
TRUST_LIST_PATH = "/.well-known/sonod-trust-list.jws"
STATUS_LISTS_PATH = "/api/v1/status-lists"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
MAX_AGE_HOURS = 72
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")


class Exit(IntEnum):
    VALID = 0
    INVALID = 1
    REVOKED = 2
    CANNOT_VERIFY = 3
    EXPIRED = 4


class CannotVerify(Exception):
    """No verdict is possible: the input cannot be read or there is nothing to check it against."""


@dataclass(frozen=True)
class Cache:
    trust: TrustList
    status_lists: dict[tuple[str, int], StatusList]


verify_app = typer.Typer(add_completion=False, help="Verify a sonod certificate with no network: its signature "
                         "against the unions' keys that the pinned sonod root vouches for, then revocation (the "
                         "unions' signed status lists) and validity.")


@verify_app.command()
def verify(
    source: Annotated[str | None, typer.Argument(help="The QR text, or the path of a PNG/JPEG image or PDF.")] = None,
    cache: Annotated[Path, typer.Option(envvar="SONOD_VERIFY_CACHE", help="Where the lists are cached.")] = (
        DEFAULT_CACHE),
    root: Annotated[Path, typer.Option(envvar="SONOD_ROOT_JWK", help="The pinned sonod root's public JWK "
                                       "(from `sonod keys root`, never from the network).")] = DEFAULT_ROOT,
    server: Annotated[str, typer.Option(envvar="SONOD_PUBLIC_URL", help="Where to refresh the lists.")] = (
        "http://127.0.0.1:8000"),
    online: Annotated[bool | None, typer.Option("--refresh/--offline", "--online",
                                                help="Refresh first. Default: refresh if the server answers.")] = None,
    max_age: Annotated[float, typer.Option(help="Refuse lists signed longer ago than this, in hours.")] = (
        MAX_AGE_HOURS),
    stale_ok: Annotated[bool, typer.Option("--stale-ok", help="Decide from older lists, saying so.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
) -> None:
    """Check a certificate's QR code; report VALID, REVOKED, EXPIRED or INVALID, and how old the lists are."""
    notes = Console(stderr=True)
    mode, now = "offline", datetime.now(UTC)
    try:
        pinned = load_root(root)
        text = read_qr(source) if source is not None else None
        if online is not False:
            try:
                refresh(server, cache, pinned)
                mode = "online"
            except CannotVerify as exc:
                if online or text is None:
                    raise
                notes.print(f"[yellow]offline:[/] {escape(str(exc))}; deciding from the cached lists")
        lists = load_cache(cache, pinned)
        if text is None:
            notes.print(f"cached the trust list and {len(lists.status_lists)} status lists in {cache}")
            raise typer.Exit(0)
        answer = judge(text, lists.trust, lists.status_lists, now)
        stale = _stale(lists, answer, now, timedelta(hours=max_age))
        if stale and not stale_ok:
            raise CannotVerify(f"{stale}: refresh them (--refresh), or pass --stale-ok to decide anyway")
        if not answer.decided:
            raise CannotVerify(answer.reason)
    except CannotVerify as exc:
        notes.print(f"[bold red]cannot verify:[/] {escape(str(exc))}")
        raise typer.Exit(Exit.CANNOT_VERIFY) from None

    reason = answer.reason + (f" ({stale}; decided anyway: --stale-ok)" if stale else "")
    if as_json:
        typer.echo(json.dumps(_json(answer, reason, lists, mode, now), ensure_ascii=False))
    else:
        _print(Console(), answer, reason, lists, mode, now)
    raise typer.Exit(Exit[answer.verdict.name])


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


# --- the pinned root and the cache ----------------------------------------------------------------------


def load_root(path: Path) -> dict[str, Any]:
    try:
        jwk = json.loads(path.read_text())
    except FileNotFoundError:
        raise CannotVerify(f"no pinned root at {path}: ask the deployment's operator for it (`sonod keys root`) "
                           "and pass --root") from None
    except (OSError, ValueError) as exc:
        raise CannotVerify(f"the pinned root {path} is unreadable: {exc}") from None
    if not isinstance(jwk, dict):
        raise CannotVerify(f"the pinned root {path} is not a JWK")
    return jwk


def refresh(server: str, cache: Path, root: dict[str, Any]) -> None:
    """Download the trust list and every status list; replace the cache only if all are signed as they must be."""
    try:
        with httpx.Client(base_url=server, timeout=httpx.Timeout(10.0, connect=3.0)) as http:
            token = http.get(TRUST_LIST_PATH).raise_for_status().text
            trust = read_trust_list(token, root)
            lists = {}
            for entry in _entries(http.get(STATUS_LISTS_PATH).raise_for_status().json()):
                listed = http.get(f"{STATUS_LISTS_PATH}/{entry[0]}/{entry[1]}").raise_for_status().text
                checked = read_status_list(listed, trust.keys)
                if (checked.union, checked.year) != entry:
                    raise ListError(f"the status list of {entry[0]} {entry[1]} is of another union or year")
                lists[entry] = listed
    except httpx.HTTPError as exc:
        raise CannotVerify(f"{server} did not answer: {exc}") from None
    except ListError as exc:
        raise CannotVerify(f"{server} sent lists the pinned root does not vouch for: {exc}") from None
    except ValueError as exc:  # JSON
        raise CannotVerify(f"{server} sent a malformed list of status lists: {exc}") from None
    folder = cache / STATUS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for (union, year), listed in lists.items():
        _write_atomically(folder / f"{union}-{year}.jws", listed)
    _write_atomically(cache / TRUST_LIST_FILE, token)


def _entries(index: Any) -> list[tuple[str, int]]:
    entries = index.get("lists") if isinstance(index, dict) else None
    if not isinstance(entries, list):
        raise ValueError("no `lists`")
    found = []
    for entry in entries:
        union, year = (entry.get("union"), entry.get("year")) if isinstance(entry, dict) else (None, None)
        if not (isinstance(union, str) and _SLUG.fullmatch(union) and type(year) is int and 1970 <= year <= 9999):
            raise ValueError(f"a malformed entry {entry!r}")
        found.append((union, year))
    return found


def load_cache(cache: Path, root: dict[str, Any]) -> Cache:
    """The cached lists, each checked again: the trust list against the root, status lists against the trust list."""
    try:
        trust = read_trust_list((cache / TRUST_LIST_FILE).read_text(), root)
    except FileNotFoundError:
        raise CannotVerify(f"no cached trust list in {cache}; refresh once online (--refresh --server URL)") from None
    except (OSError, ListError) as exc:
        raise CannotVerify(f"the cached trust list in {cache} is unusable: {exc}") from None
    lists = {}
    for path in sorted((cache / STATUS_DIR).glob("*.jws")):
        try:
            listed = read_status_list(path.read_text(), trust.keys)
        except (OSError, ListError) as exc:
            raise CannotVerify(f"the cached status list {path} is unusable: {exc}") from None
        lists[(listed.union, listed.year)] = listed
    return Cache(trust, lists)


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


# --- the verdict ----------------------------------------------------------------------------------


def _stale(lists: Cache, answer: Answer, now: datetime, max_age: timedelta) -> str | None:
    """What is too old to decide from, if anything."""
    too_old = [f"the trust list is {age(lists.trust.iat, now)} old"] if now - lists.trust.iat > max_age else []
    if answer.status_list is not None and now - answer.status_list.iat > max_age:
        too_old.append(f"the status list is {age(answer.status_list.iat, now)} old")
    return " and ".join(too_old) + f" (more than {max_age.total_seconds() / 3600:g} h)" if too_old else None


def _ages(lists: Cache, answer: Answer, now: datetime) -> dict[str, Any]:
    listed = answer.status_list
    return {"trust_list_iat": lists.trust.iat.isoformat(), "trust_list_age": age(lists.trust.iat, now),
            "status_list_iat": listed.iat.isoformat() if listed else None,
            "status_list_age": age(listed.iat, now) if listed else None}


def _json(answer: Answer, reason: str, lists: Cache, mode: str, now: datetime) -> dict[str, Any]:
    claims = answer.result.claims
    return {"status": answer.verdict.value, "reason": reason, "kid": answer.result.kid,
            "certificate": claims.model_dump(mode="json") if claims is not None else None, "mode": mode,
            "lists": _ages(lists, answer, now)}


_STYLE = {Verdict.VALID: "bold green", Verdict.REVOKED: "bold yellow", Verdict.EXPIRED: "bold yellow",
          Verdict.INVALID: "bold red"}


def _print(console: Console, answer: Answer, reason: str, lists: Cache, mode: str, now: datetime) -> None:
    console.print(f"[{_STYLE[answer.verdict]}]{answer.verdict.name}[/]  {escape(reason)}", highlight=False)
    rows = []
    if (c := answer.result.claims) is not None:
        rows = [("certificate", f"{c.certificate_no} ({c.certificate_type})"), ("union", c.union),
                ("name", f"{c.name_bn} / {c.name_en}"), ("issued on", c.issued_on.isoformat()),
                ("valid until", c.valid_until.isoformat() if c.valid_until else "no end"),
                ("content hash", c.content_hash.hex()), ("signing key", answer.result.kid)]
    ages = _ages(lists, answer, now)
    rows.append(("trust list", f"signed {ages['trust_list_iat']}, {ages['trust_list_age']} old"))
    if ages["status_list_iat"]:
        rows.append(("status list", f"signed {ages['status_list_iat']}, {ages['status_list_age']} old"))
    rows.append(("checked", mode))
    for label, value in rows:
        console.print(f"  [dim]{label:>12}[/]  {escape(str(value))}", highlight=False)
