"""The SMS gateway simulator (infra/smsgw) as a process on loopback, for tests that speak to it over HTTP."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx

from tests.stack import ROOT, free_port


class SmsGateway:
    def __init__(self, dlr_base: str = "") -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        port = self.url.rsplit(":", 1)[1]
        self.proc = subprocess.Popen([sys.executable, "-m", "infra.smsgw", "--host", "127.0.0.1", "--port", port,
                                      "--dlr-base", dlr_base, "--log-level", "warning"], cwd=ROOT)
        for _ in range(300):
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the SMS gateway simulator did not start")

    def faults(self, **per_protocol: dict) -> None:
        httpx.post(f"{self.url}/_sim/faults", json=per_protocol, timeout=5).raise_for_status()

    def messages(self, protocol: str | None = None) -> list[dict]:
        r = httpx.get(f"{self.url}/_sim/messages", params={"protocol": protocol} if protocol else {}, timeout=5)
        r.raise_for_status()
        return r.json()

    def reset(self) -> None:
        httpx.post(f"{self.url}/_sim/reset", timeout=5).raise_for_status()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
