"""Printing issued certificates in batches at the union office (issue 16): what a batch asks for, its id, and the
union's pre-printed letterhead.

A batch is one print-ready PDF of the certificates an officer chose (issued on a day, of a type, of a ward, not
printed yet), in the register's order after a cover that lists them; the `PrintBatch` workflow makes it
(workflows/printing.py) and marks them printed. On a letterhead the union's own header is already on the paper: no
masthead is printed, and the certificate is fitted inside the margins the union set.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_BATCH = 1000  # certificates in one batch: a day's work of a busy union office and more
CHUNK = 25  # certificates rendered between two progress reports
MM = 72 / 25.4  # points in a millimetre
PAGE_MM = (210.0, 297.0)  # A4
# the part of a certificate's page under the masthead (activities/render.py CONTENT_BOX), in mm. A letterhead's
# room is as wide or at most a tenth narrower (the page shrinks to its width, and its QR with it: below that a
# 150-dpi scan stops reading it), and tall enough for a certificate's usual page (a longer one runs on)
CONTENT_MM = (174.6, 235.3)
MIN_WIDTH_MM = CONTENT_MM[0] * 0.9
MIN_HEIGHT_MM = 170.0


class Margins(BaseModel):
    """A union's letterhead: how much of an A4 sheet its printed header, footer and borders take, in mm."""

    model_config = ConfigDict(extra="forbid")

    top: int = Field(52, ge=0, le=150)
    bottom: int = Field(10, ge=0, le=100)
    left: int = Field(17, ge=0, le=60)
    right: int = Field(17, ge=0, le=60)

    def cramped(self) -> str | None:
        """The margin to blame when the margins leave too little room for a certificate, else None."""
        width, height = PAGE_MM[0] - self.left - self.right, PAGE_MM[1] - self.top - self.bottom
        if height < MIN_HEIGHT_MM:
            return "top"
        if width < MIN_WIDTH_MM:
            return "left"
        return None

    def box(self) -> tuple[float, float, float, float]:
        """The room the margins leave, in PDF points from the sheet's lower left corner: (x1, y1, x2, y2)."""
        return (self.left * MM, self.bottom * MM, (PAGE_MM[0] - self.right) * MM, (PAGE_MM[1] - self.top) * MM)


LETTERHEAD = Margins()  # the place of sonod's own masthead: a letterhead whose header is as tall prints the same page


def letterhead_of(value: dict[str, Any] | None) -> Margins:
    """A union's margins as stored (`unions.letterhead`), the defaults where it has set none."""
    return Margins.model_validate(value) if value else LETTERHEAD


class PrintFilters(BaseModel):
    """Which issued certificates of the union a batch prints. Revoked ones never."""

    model_config = ConfigDict(extra="forbid")

    issued_on: dt.date | None = None  # the day of issue in Bangladesh
    certificate_type: str | None = Field(None, max_length=40)
    ward_no: int | None = Field(None, ge=1, le=9)  # the holder's ward in the NID record
    not_printed: bool = False  # only those not in any batch yet


class PrintRequest(BaseModel):
    """The `PrintBatch` workflow's input."""

    batch_id: str
    union: str
    filters: PrintFilters
    letterhead: bool = False


class PrintedBatch(BaseModel):
    """A batch's PDF, stored under the PDF store at `pdf_ref` (None when nothing was left to print)."""

    batch_id: str
    total: int
    pdf_ref: str | None = None
    skipped: int = 0


AS_SIGNED = "as_signed"  # a `skipped` entry's why: printed from its own signed PDF, its record no longer draws it


def left_out(skipped: list[dict]) -> list[str]:
    """The numbers a batch did not print (revoked, missing), of those in its `skipped`."""
    return [s["certificate_no"] for s in skipped if s["why"] != AS_SIGNED]


def as_signed(skipped: list[dict]) -> list[str]:
    """The numbers a batch printed from their own signed PDFs, of those in its `skipped`."""
    return [s["certificate_no"] for s in skipped if s["why"] == AS_SIGNED]


def new_batch_id(union: str) -> str:
    """`P-<union>-<random>`: never a person's NID or name."""
    return f"P-{union}-{secrets.token_hex(8)}"
