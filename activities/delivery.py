"""How messages leave sonod: the dev SMS sink (the "file" SMS provider, activities/sms/), and email over SMTP."""

from __future__ import annotations

import json
import os
import smtplib
import threading
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str, idempotency_key: str) -> None: ...


class SmsSink:
    """The dev SMS gateway: one JSON line per message; a repeated idempotency key is dropped."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self._keys: set[str] = set()
        self._scanned = 0  # bytes of the file whose keys are in _keys

    def send(self, to: str, text: str, idempotency_key: str) -> None:
        with self.lock:
            if idempotency_key in self._sent_keys():
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"key": idempotency_key, "to": to, "text": text}, ensure_ascii=False) + "\n")

    def _sent_keys(self) -> set[str]:
        """The keys in the file, reading only what was appended since the last send (other processes append
        too): re-reading the whole file made every SMS slower than the one before."""
        try:
            with self.path.open("rb") as f:
                if os.fstat(f.fileno()).st_size < self._scanned:  # truncated or replaced: start over
                    self._keys, self._scanned = set(), 0
                f.seek(self._scanned)
                appended = f.read()
        except FileNotFoundError:
            self._keys, self._scanned = set(), 0
            return self._keys
        whole = appended.rfind(b"\n") + 1  # a line still being written is read next time
        self._keys.update(json.loads(line)["key"] for line in appended[:whole].splitlines() if line.strip())
        self._scanned += whole
        return self._keys

    def messages(self) -> list[dict]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line]


class SmtpMailer:
    def __init__(self, host: str, port: int, sender: str, timeout: float = 10.0) -> None:
        self.host, self.port, self.sender, self.timeout = host, port, sender, timeout

    def send(self, to: str, subject: str, body: str, idempotency_key: str) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, to, subject
        msg["Message-ID"] = f"<{idempotency_key.replace(':', '.')}@sonod>"
        msg.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.send_message(msg)


class MailDir:
    """Email in dev mode without an SMTP server: one .eml file per message, named by its key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, to: str, subject: str, body: str, idempotency_key: str) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        msg = EmailMessage()
        msg["To"], msg["Subject"] = to, subject
        msg.set_content(body)
        (self.path / f"{idempotency_key.replace(':', '_').replace('/', '_')}.eml").write_bytes(bytes(msg))
