"""The visible block of the PDF's own signature (PAdES), in Bengali and English whatever the certificate's language:
that it is digitally signed, by whom (the union's office named by its certificate) and when."""

from __future__ import annotations

from typing import TYPE_CHECKING

from activities.templates.wording import local
from sonod.bengali import to_bn_digits

if TYPE_CHECKING:
    from activities.render import SealView

SIGNED = "**ডিজিটাল স্বাক্ষরিত / Digitally signed**"


def seal_text(seal: SealView, language: str = "bn") -> str:
    """Two lines: signed, by whom; when (in Bengali digits too on a Bengali certificate)."""
    t = local(seal.signed_at)
    stamp = f"{t:%d/%m/%Y %H:%M:%S}"
    when = f"{to_bn_digits(stamp)} / {stamp}" if language == "bn" else stamp
    return f"{SIGNED}: {seal.signer_bn} / {seal.signer_en}\nসময় / Time: {when} (UTC+6)"
