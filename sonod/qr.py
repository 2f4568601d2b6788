"""QR symbols for certificates.

The QR text is a verification URL followed by a base32 payload. The URL goes in byte mode and the
payload in alphanumeric mode (base32 is A-Z2-7), which keeps the symbol small enough to print at 3 cm.
"""

from __future__ import annotations

import io

import qrcode
from qrcode.util import MODE_8BIT_BYTE, MODE_ALPHA_NUM, QRData

_ALNUM = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def _segments(text: str) -> list[QRData]:
    head = len(text)
    while head > 0 and text[head - 1] in _ALNUM:
        head -= 1
    # a short alphanumeric tail costs more in mode switching than it saves
    if len(text) - head < 20:
        return [QRData(text.encode(), mode=MODE_8BIT_BYTE)]
    segs = [QRData(text[:head].encode(), mode=MODE_8BIT_BYTE)] if head else []
    segs.append(QRData(text[head:].encode(), mode=MODE_ALPHA_NUM))
    return segs


def make_qr(text: str) -> qrcode.QRCode:
    # a fixed mask: scanners read every mask, and trying all eight costs ~10 ms a certificate
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, mask_pattern=2)
    for seg in _segments(text):
        qr.add_data(seg, optimize=0)
    qr.make(fit=True)
    return qr


def qr_matrix(text: str) -> list[list[bool]]:
    """The modules of the symbol, quiet zone included; True is dark."""
    return make_qr(text).get_matrix()


def qr_png(text: str, box_size: int = 8) -> bytes:
    qr = make_qr(text)
    qr.box_size = box_size
    buf = io.BytesIO()
    qr.make_image().save(buf)
    return buf.getvalue()
