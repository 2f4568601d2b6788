"""Structured logs: one JSON object a line, with the application (workflow) an activity or workflow log is about.

Logs never carry an NID or a name: sonod's own code logs IDs and outcomes only, the database engine hides
statement parameters, and as a last guard every run of 10 to 17 digits (NIDs, birth registration and mobile
numbers, in ASCII or Bengali digits) is masked. Names cannot be recognised by pattern; keep them out of messages.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys

from temporalio import activity

NUMBER = re.compile(r"(?<![0-9০-৯])(?:\+?88)?[0-9০-৯]{10,17}(?![0-9০-৯])")
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "taskName"}


def scrub(text: str) -> str:
    return NUMBER.sub("[number]", text)


def context(record: logging.LogRecord) -> dict:
    """The workflow and activity a record is about: the SDK's own extras, or the running activity's info."""
    out: dict = {}
    found = getattr(record, "temporal_activity", None) or getattr(record, "temporal_workflow", None)
    if isinstance(found, dict):
        out = {"workflow_id": found.get("workflow_id"), "run_id": found.get("workflow_run_id") or found.get("run_id"),
               "activity": found.get("activity_type"), "attempt": found.get("attempt")}
    elif activity.in_activity():
        info = activity.info()
        out = {"workflow_id": info.workflow_id, "run_id": info.workflow_run_id, "activity": info.activity_type,
               "attempt": info.attempt}
    if out.get("workflow_id"):
        out["application_id"] = out["workflow_id"]
    return {k: v for k, v in out.items() if v is not None}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": scrub(record.getMessage()),
            **context(record),
        }
        for key, value in record.__dict__.items():
            if key in _STANDARD or key.startswith("temporal_") or key in out:
                continue
            out[key] = scrub(value) if isinstance(value, str) else value
        if record.exc_info:
            out["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(name)s %(levelname)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def configure_logging(log_format: str = "json", level: str = "INFO") -> None:
    """Send every logger's records to stderr in sonod's format (replacing handlers set up before)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore"):  # one line per HTTP request: too chatty at INFO
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
