"""`sonod dev`: the whole stack in the foreground, which is what `make run` runs.

1. Preflight: the ports are free, the `temporal` binary is there, no other `sonod dev` uses this var/.
2. Migrate and seed the database (SQLite under var/ unless SONOD_DATABASE_URL names one).
3. Start, each in its own process group and each waited for: the Temporal dev server, the Porichoy
   simulator, the worker and the API. Their output goes to var/log/<name>.log and, prefixed, to the console.
4. Print the URLs and the demo log-ins, then watch.

SIGINT or SIGTERM stops the children in reverse order (SIGTERM to the group, SIGKILL after a grace period)
and exits 0. A child that dies on its own is named with the end of its log; the rest are stopped; exit 1.
Everything lives in var/, so the next `sonod dev` carries on where this one stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import datetime as dt
import errno
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from infra import smsgw, temporal_server
from infra.cli_common import CliError, describe_seed, masked_url, migrate_database, seed_database
from infra.porichoy import REGISTRY_PATH
from sonod.settings import Settings
from sonod.unions import GOPALGANJ_SADAR

GRACE_SECONDS = 10.0
TAIL_LINES = 25
DEMO_UNION = "paikkandi"


class DevError(Exception):
    """A failure told in one message: the stack is stopped and `sonod dev` exits 1."""


class Interrupted(Exception):
    """SIGINT or SIGTERM: stop everything and exit 0."""


@dataclass(frozen=True)
class Port:
    host: str
    port: int
    purpose: str  # "the API"
    variable: str  # the setting that moves it


@dataclass
class Component:
    name: str
    title: str
    argv: list[str]
    ports: list[Port] = field(default_factory=list)
    ready: Callable[[Child], bool] | None = None
    waiting_for: str = ""
    timeout: float = 60.0


@dataclass
class Child:
    component: Component
    proc: subprocess.Popen
    log_path: Path
    started_at: dt.datetime
    reader: IO[bytes]
    partial: bytes = b""

    @property
    def name(self) -> str:
        return self.component.name

    def describe_exit(self) -> str:
        code = self.proc.returncode
        if code is not None and code < 0:
            try:
                return f"was killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"was killed by signal {-code}"
        return f"exited with code {code}"


class ChildDied(Exception):
    def __init__(self, child: Child) -> None:
        super().__init__(f"{child.component.title} {child.describe_exit()}")
        self.child = child


# ---------------------------------------------------------------------------------------------------------------
# ports


def port_problem(host: str, port: int) -> str | None:
    """Why a server could not listen on host:port, or None when it can."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: TIME_WAIT is no conflict
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                holder = _listener(port)
                return "it is already in use" + (f" by {holder}" if holder else "")
            return exc.strerror or str(exc)
    return None


def _listener(port: int) -> str | None:
    """Best effort, Linux only: 'pid N (command line)' of the process listening on the port."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{cols[9]}]")
    if not inodes:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in inodes:
                    cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                    return f"pid {proc.name} ({cmd[:120]})"
        except OSError:
            continue
    return None


def probe_host(host: str) -> str:
    """Where to connect to reach a server listening on `host`."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


def http_base(host: str, port: int) -> str:
    host = probe_host(host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


_no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_status(url: str, timeout: float = 2.0) -> int | None:
    try:
        with _no_proxy.open(url, timeout=timeout) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------------------------
# the stack


def _set_parent_death_signal() -> Callable[[], None] | None:
    """Linux: children get SIGTERM if `sonod dev` itself is killed (SIGKILL leaves it no chance to stop them)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM)

    return preexec


class Stack:
    def __init__(self, settings: Settings, *, forward_logs: bool) -> None:
        self.settings = settings
        self.forward_logs = forward_logs
        self.children: list[Child] = []
        self.stopping = False
        self.forced = False
        self.loop = asyncio.new_event_loop()
        self.log_dir = settings.var_dir / "log"
        self.env = self._child_env()
        self._preexec = _set_parent_death_signal()
        self._lock: IO[str] | None = None

    # -- signals ------------------------------------------------------------------------------------------------

    def on_signal(self, signum: int, _frame: object) -> None:
        if self.stopping:
            self.forced = True  # a second Ctrl-C: no more grace
        self.stopping = True

    def check_signals(self) -> None:
        if self.stopping:
            raise Interrupted

    def sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.check_signals()
            self.forward()
            time.sleep(min(0.1, max(0.0, end - time.monotonic())))
        self.check_signals()

    # -- preparation --------------------------------------------------------------------------------------------

    def _child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        env["SONOD_VAR_DIR"] = str(self.settings.var_dir)  # absolute: children agree whatever their cwd
        env["SONOD_PORICHOY_URL"] = self.settings.porichoy_url
        env["SONOD_GATEWAYS_URL"] = self.settings.gateways_url
        env["SONOD_TSA_URL"] = self.settings.tsa_url
        env["SONOD_PUBLIC_URL"] = self.settings.public_url
        env["SONOD_TEMPORAL_UI_URL"] = self.settings.temporal_ui_url
        env |= smsgw.child_env(self.settings)
        return env

    def lock_var_dir(self) -> None:
        """One `sonod dev` per var/: two Temporal servers on one database file would corrupt it."""
        path = self.settings.var_dir / "dev.lock"
        handle = path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            owner = handle.read().strip() or "?"
            handle.close()
            raise DevError(f"another `sonod dev` (pid {owner}) is already running on {self.settings.var_dir}; "
                           "stop it first, or set SONOD_VAR_DIR to another directory") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock = handle

    # -- children -----------------------------------------------------------------------------------------------

    def start(self, component: Component) -> Child:
        self.check_signals()
        log_path = self.log_dir / f"{component.name}.log"
        if log_path.exists() and log_path.stat().st_size:
            log_path.replace(log_path.with_name(log_path.name + ".1"))  # keep the previous run's log
        with log_path.open("ab") as out:
            proc = subprocess.Popen(
                component.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=self.env,
                # Its own process group, and it dies with us. The preexec function is one pre-bound libc call,
                # so the threads of the Temporal client (used by the readiness probes) cannot deadlock it.
                start_new_session=True, preexec_fn=self._preexec,
            )
        child = Child(component, proc, log_path, dt.datetime.now(dt.UTC), log_path.open("rb"))
        self.children.append(child)
        say(f"started {component.title} (pid {proc.pid}, log {log_path})")
        return child

    def wait_ready(self, child: Child) -> None:
        component = child.component
        if component.ready is None:
            return
        deadline = time.monotonic() + component.timeout
        while True:
            self.check_signals()
            self.forward()
            if child.proc.poll() is not None:
                raise ChildDied(child)
            if component.ready(child):
                return
            if time.monotonic() > deadline:
                raise DevError(
                    f"{component.title} was not ready after {component.timeout:.0f} s "
                    f"(waited for {component.waiting_for}); the end of {child.log_path}:\n{tail(child.log_path)}")
            self.sleep(0.25)

    def watch(self) -> None:
        while True:
            self.sleep(0.25)
            for child in self.children:
                if child.proc.poll() is not None:
                    raise ChildDied(child)

    def stop_all(self) -> None:
        self.forward()
        self.forward_logs = False  # shutdown chatter stays in the log files
        running = [c for c in reversed(self.children) if c.proc.poll() is None]
        if running:
            say("stopping " + ", ".join(c.name for c in running) + " ...")
        for child in reversed(self.children):
            self._stop(child)
        for child in self.children:
            child.reader.close()
        self.loop.close()
        if self._lock is not None:
            self._lock.close()

    def _stop(self, child: Child) -> None:
        pgid = child.proc.pid  # start_new_session: the child leads its own group
        if child.proc.poll() is None:
            _signal_group(pgid, signal.SIGTERM)
            deadline = time.monotonic() + GRACE_SECONDS
            while child.proc.poll() is None and time.monotonic() < deadline and not self.forced:
                self.forward()
                time.sleep(0.05)
            if child.proc.poll() is None:
                say(f"killing {child.name}" if self.forced else
                    f"{child.name} did not stop within {GRACE_SECONDS:.0f} s: killing it")
                _signal_group(pgid, signal.SIGKILL)
                child.proc.wait()
        _signal_group(pgid, signal.SIGKILL)  # anything it left behind in its group

    # -- logs ---------------------------------------------------------------------------------------------------

    def forward(self) -> None:
        """Copy the children's new log lines to the console, each prefixed with its name."""
        if not self.forward_logs:
            return
        width = max((len(c.name) for c in self.children), default=0)
        for child in self.children:
            data = child.partial + child.reader.read()
            lines = data.split(b"\n")
            child.partial = lines.pop()
            for line in lines:
                if line.strip():
                    print(f"{child.name:>{width}} | {line.decode(errors='replace').rstrip()}", flush=True)

    # -- probes -------------------------------------------------------------------------------------------------

    def run_async(self, coro: Coroutine[Any, Any, bool], timeout: float = 5.0) -> bool:
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))

    def temporal_ready(self, _child: Child | None = None) -> bool:
        host, port = temporal_server.endpoint(self.settings)
        if not temporal_server.port_open(probe_host(host), port):
            return False
        try:
            if not self.run_async(temporal_server.serving(self.settings)):
                return False
        except TimeoutError:
            return False
        return http_status(http_base(host, self.settings.temporal_ui_port) + "/") is not None

    def worker_ready(self, child: Child) -> bool:
        try:
            polled = temporal_server.has_pollers(self.settings, self.settings.task_queue, child.started_at)
            return self.run_async(polled)
        except TimeoutError:
            return False


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def tail(path: Path, lines: int = TAIL_LINES) -> str:
    try:
        text = path.read_bytes()[-64_000:].decode(errors="replace")
    except OSError:
        return "    (no log)"
    last = [line for line in text.splitlines() if line.strip()][-lines:]
    return "\n".join(f"    {line}" for line in last) or "    (the log is empty)"


def say(message: str) -> None:
    print(f"sonod dev: {message}", flush=True)


# ---------------------------------------------------------------------------------------------------------------
# the plan


def effective_settings(settings: Settings) -> Settings:
    """Absolute var/, and URLs that follow the ports unless they were set explicitly."""
    update: dict[str, object] = {"var_dir": settings.var_dir.expanduser().resolve()}
    if "SONOD_PORICHOY_URL" not in os.environ:
        update["porichoy_url"] = http_base(settings.porichoy_host, settings.porichoy_port)
    if "SONOD_GATEWAYS_URL" not in os.environ:
        update["gateways_url"] = http_base(settings.gateways_host, settings.gateways_port)
    if runs_own_tsa():
        update["tsa_url"] = http_base(settings.tsa_host, settings.tsa_port)
    if "SONOD_PUBLIC_URL" not in os.environ:
        update["public_url"] = http_base(settings.api_host, settings.api_port)
    update |= smsgw.demo_settings(settings, http_base(settings.smsgw_host, settings.smsgw_port))
    if "SONOD_TEMPORAL_UI_URL" not in os.environ:
        host, _ = temporal_server.endpoint(settings)
        update["temporal_ui_url"] = http_base(host, settings.temporal_ui_port)
    return settings.model_copy(update=update)


def runs_own_tsa() -> bool:
    """`sonod dev` starts sonod's time-stamping authority (infra/tsa) unless SONOD_TSA_URL names another."""
    return "SONOD_TSA_URL" not in os.environ


def plan(stack: Stack, *, embed_temporal: bool, porichoy: bool, gateways: bool = True) -> list[Component]:
    settings = stack.settings
    cli = [sys.executable, "-m", "infra.cli"]
    components: list[Component] = []
    if embed_temporal:
        binary = temporal_server.find_binary(settings)
        host, port = temporal_server.endpoint(settings)
        components.append(Component(
            "temporal", "the Temporal dev server", temporal_server.start_dev_command(binary, settings),
            ports=[Port(host, port, "Temporal (gRPC)", "SONOD_TEMPORAL_ADDRESS"),
                   Port(host, settings.temporal_ui_port, "the Temporal Web UI", "SONOD_TEMPORAL_UI_PORT")],
            ready=stack.temporal_ready, waiting_for=f"gRPC on {settings.temporal_address} and the Web UI",
            timeout=90.0,
        ))

    def http_server(name: str, title: str, host: str, port: int) -> Component:
        """A simulator (or the TSA): `sonod <name>` on SONOD_<NAME>_PORT, ready when its /healthz answers 200."""
        health = http_base(host, port) + "/healthz"
        return Component(name, title, [*cli, name], ports=[Port(host, port, title, f"SONOD_{name.upper()}_PORT")],
                         ready=lambda _c, url=health: http_status(url) == 200,
                         waiting_for=f"GET {health} to answer 200", timeout=60.0)

    if porichoy:
        components.append(http_server("porichoy", "the Porichoy simulator", settings.porichoy_host,
                                      settings.porichoy_port))
    if gateways and settings.dev_mode:
        components.append(http_server("gateways", "the payment gateways simulator", settings.gateways_host,
                                      settings.gateways_port))
    if smsgw.uses_smsgw(settings):
        components.append(http_server("smsgw", "the SMS gateway simulator", settings.smsgw_host, settings.smsgw_port))
    if runs_own_tsa():
        components.append(http_server("tsa", "the time-stamping authority", settings.tsa_host, settings.tsa_port))
    components.append(Component(
        "worker", "the worker", [*cli, "worker"], ready=stack.worker_ready,
        waiting_for=f"a poller on the task queue {settings.task_queue!r}", timeout=90.0,
    ))
    health = http_base(settings.api_host, settings.api_port) + "/healthz"
    components.append(Component(
        "api", "the API", [*cli, "api"],
        ports=[Port(settings.api_host, settings.api_port, "the API", "SONOD_API_PORT")],
        ready=lambda _c, url=health: http_status(url) == 200, waiting_for=f"GET {health} to answer 200",
        timeout=90.0,
    ))
    return components


def preflight(components: list[Component]) -> None:
    seen: dict[int, Port] = {}
    for component in components:
        for port in component.ports:
            if port.port in seen:
                other = seen[port.port]
                raise DevError(f"port {port.port} is configured for both {other.purpose} ({other.variable}) "
                               f"and {port.purpose} ({port.variable})")
            seen[port.port] = port
            problem = port_problem(port.host, port.port)
            if problem:
                raise DevError(f"port {port.port} on {port.host} is needed by {port.purpose}, but {problem}; "
                               f"stop what holds it or set {port.variable} to another port")


def run_dev(settings: Settings, *, embed_temporal: bool | None = None, porichoy: bool = True, gateways: bool = True,
            forward_logs: bool = True) -> int:
    try:
        settings = effective_settings(settings)
        embed = temporal_server.should_embed(settings) if embed_temporal is None else embed_temporal
    except ValueError as exc:
        say(str(exc))
        return 2
    stack = Stack(settings, forward_logs=forward_logs)
    previous = {sig: signal.signal(sig, stack.on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    code = 0
    try:
        components = plan(stack, embed_temporal=embed, porichoy=porichoy, gateways=gateways)
        preflight(components)
        stack.log_dir.mkdir(parents=True, exist_ok=True)
        stack.lock_var_dir()

        revision = migrate_database(settings.db_url)
        say(f"database {masked_url(settings.db_url)} is at revision {revision}")
        say(describe_seed(seed_database(settings)))
        stack.check_signals()
        if not embed:
            say(f"using the Temporal server at {settings.temporal_address} (namespace {settings.temporal_namespace})")

        for component in components:
            stack.wait_ready(stack.start(component))
        print(banner(settings, embedded_temporal=embed, porichoy=porichoy,
                     gateways=gateways and settings.dev_mode), flush=True)
        stack.watch()
    except Interrupted:
        code = 0
    except ChildDied as exc:
        say(f"{exc}; the end of {exc.child.log_path}:\n{tail(exc.child.log_path)}")
        code = 1
    except (DevError, CliError, temporal_server.TemporalBinaryMissing) as exc:
        say(str(exc))
        code = 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, stack.on_signal)  # a signal during the shutdown only hastens it
        stack.stop_all()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    say("stopped" if code == 0 else "stopped after an error")
    return code


# ---------------------------------------------------------------------------------------------------------------
# what the operator sees


def banner(settings: Settings, *, embedded_temporal: bool, porichoy: bool, gateways: bool = False) -> str:
    api = settings.public_url.rstrip("/")
    slug = DEMO_UNION if any(u.slug == DEMO_UNION for u in GOPALGANJ_SADAR) else GOPALGANJ_SADAR[0].slug
    upazila = GOPALGANJ_SADAR[0].upazila_slug
    password = settings.demo_password if settings.dev_mode else "(SONOD_DEMO_PASSWORD)"
    host_tenant = f"http://{slug}.{settings.base_domain}:{settings.api_port}/"
    lines = [
        "",
        "sonod is running. Ctrl-C stops it; `make run` again carries on with the same data.",
        "",
        f"  API and web UI       {api}/   (a union: {api}/unions/{slug}/  or  {host_tenant})",
        f"  API reference        {api}/docs",
        f"  Temporal Web UI      {settings.temporal_ui_url}"
        + ("" if embedded_temporal else f"   (remote Temporal at {settings.temporal_address})"),
    ]
    if porichoy:
        lines.append(f"  Porichoy simulator   {settings.porichoy_url}   (faults: {settings.porichoy_url}/_sim/faults)")
    if gateways:
        lines.append(f"  Payment gateways     {settings.gateways_url}   (ekPay, bKash, SSLCommerz, Nagad; "
                     f"faults: {settings.gateways_url}/_sim/faults)")
    if runs_own_tsa():
        lines.append(f"  Time-stamping (TSA)  {settings.tsa_url}   (RFC 3161, for the PDFs' signatures)")
    if smsgw.uses_smsgw(settings):
        lines.append(f"  SMS gateways         {settings.smsgw_url}   (SSL Wireless, BulkSMSBD; faults: /_sim/faults)")
    lines += [
        f"  Logs                 {settings.var_dir / 'log'}/",
        "",
        (f"Demo log-ins, password {password}, in any of the {len(GOPALGANJ_SADAR)} unions "
         f"({', '.join(u.slug for u in GOPALGANJ_SADAR[:4])}, ...):"),
        f"  chairman.{slug}   secretary.{slug}   udc.{slug}   ward1.{slug} ... ward9.{slug}   acting.{slug}",
        f"  uno.{upazila}   admin.{upazila}   operator (the codec server, `sonod ops`)",
    ]
    if settings.dev_mode:
        lines += [
            f"  TOTP secret (chairman, secretary, acting, admin, uno, operator): {settings.demo_totp_secret}",
            f"    a code: {sys.executable} -c \"import pyotp; print(pyotp.TOTP('{settings.demo_totp_secret}').now())\"",
            f"  Portal API key (X-API-Key): {settings.demo_portal_key}",
        ]
    lines += ["", "Submit an application as the demo portal:", "  " + curl_example(settings, slug), ""]
    return "\n".join(lines)


def curl_example(settings: Settings, slug: str) -> str:
    person = demo_person(slug)
    body = {
        "union": slug, "certificate_type": "citizenship",
        "applicant": {k: person[k] for k in ("nid", "date_of_birth", "name_bn", "name_en",
                                              "father_name_bn", "mother_name_bn")},
        "contact": {"mobile": "01711000000", "email": None},
        "details": {"purpose": "demo"},
    }
    key = settings.demo_portal_key if settings.dev_mode else "$SONOD_PORTAL_KEY"
    return (f"curl -s {settings.public_url.rstrip('/')}/api/v1/applications -H 'X-API-Key: {key}' "
            f"-H \"Idempotency-Key: demo-$(date +%s)\" -H 'Content-Type: application/json' "
            f"-d '{json.dumps(body, ensure_ascii=False)}'")


def demo_person(slug: str) -> dict:
    """An adult of the synthetic NID registry living in `slug`, so that the NID check passes."""
    fallback = {"nid": "0000000000", "date_of_birth": "1980-01-01", "name_bn": "...", "name_en": "...",
                "father_name_bn": "...", "mother_name_bn": "..."}
    try:
        with REGISTRY_PATH.open(encoding="utf-8") as registry:
            for line in registry:
                person = json.loads(line)
                if (person.get("union") == slug and person.get("id_type", "nid") == "nid"
                        and not person.get("date_of_death") and person.get("date_of_birth", "9999") < "2000"):
                    return person
    except (OSError, ValueError):
        pass
    return fallback
