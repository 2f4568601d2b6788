"""A certificate's English one: a certificate of its own, numbered as the Bengali one with a language mark."""

from __future__ import annotations

ENGLISH_MARK = "-EN"  # PAIKKANDI-2026-000015-EN; sonod/offline.py and the verify page read numbers with it


def english_no(certificate_no: str) -> str:
    return f"{certificate_no}{ENGLISH_MARK}"


def original_no(certificate_no: str) -> str:
    """The Bengali certificate's number, from either language's."""
    return certificate_no.removesuffix(ENGLISH_MARK)
