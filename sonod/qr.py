"""QR symbols for certificates.

The QR text is a verification URL followed by a base32 payload. The URL goes in byte mode and the
payload in alphanumeric mode (base32 is A-Z2-7), which keeps the symbol small enough to print at 3 cm.

The `qrcode` package lays out the symbol (finder and timing patterns, format and version information,
the placement of the codewords under the fixed mask). The codewords themselves are computed here:
`QRCode.make` writes the data bit by bit three times (twice to find the version, once for the symbol)
and divides polynomials list by list for the error correction, which together cost about 3 ms of a
certificate's render; the same bits and the same Reed-Solomon remainders cost about 0.1 ms as integers
(`tests/test_qr.py` checks them against `qrcode.util.create_data`).
"""

from __future__ import annotations

import io
from functools import cache

import qrcode
from qrcode import base
from qrcode.util import ALPHA_NUM, BIT_LIMIT_TABLE, MODE_8BIT_BYTE, MODE_ALPHA_NUM, PAD0, PAD1, QRData, length_in_bits

EC = qrcode.constants.ERROR_CORRECT_M
MASK = 2  # a fixed mask: scanners read every mask, and trying all eight costs ~10 ms a certificate
_ALNUM = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
_ALNUM_VALUE = {c: i for i, c in enumerate(ALPHA_NUM)}


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


def _payload_bits(seg: QRData) -> tuple[int, int]:
    """A segment's data as (value, number of bits), without its mode and length headers."""
    data = seg.data
    if seg.mode == MODE_8BIT_BYTE:
        return int.from_bytes(data, "big"), 8 * len(data)
    value = nbits = 0
    for i in range(0, len(data) - 1, 2):
        value = value << 11 | _ALNUM_VALUE[data[i]] * 45 + _ALNUM_VALUE[data[i + 1]]
        nbits += 11
    if len(data) % 2:
        value, nbits = value << 6 | _ALNUM_VALUE[data[-1]], nbits + 6
    return value, nbits


def _version(segs: list[QRData], payloads: list[tuple[int, int]]) -> int:
    """The smallest version that holds the segments at level M, as `QRCode.best_fit` chooses it."""
    for version in range(1, 41):
        bits = sum(4 + length_in_bits(s.mode, version) + n for s, (_, n) in zip(segs, payloads, strict=True))
        if bits <= BIT_LIMIT_TABLE[EC][version]:
            return version
    raise qrcode.exceptions.DataOverflowError(f"{bits} bits do not fit in a version 40 symbol")


@cache
def _rs_table(ec_count: int) -> tuple[list[int], int]:
    """For each leading coefficient, the generator polynomial times it, as one integer of `ec_count` bytes."""
    gen = [1]
    for i in range(ec_count):  # (x - a^0)(x - a^1)...(x - a^(n-1)) over GF(256)
        gen = [a ^ (base.gexp(base.glog(b) + i) if b else 0) for a, b in zip([*gen, 0], [0, *gen], strict=True)]
    logs = [base.glog(g) if g else None for g in gen[1:]]
    table = [0] * 256
    for factor in range(1, 256):
        lf = base.glog(factor)
        table[factor] = int.from_bytes(bytes(0 if lg is None else base.gexp(lg + lf) for lg in logs), "big")
    return table, (1 << 8 * ec_count) - 1


def _remainder(block: bytes, ec_count: int) -> bytes:
    table, mask = _rs_table(ec_count)
    shift = 8 * (ec_count - 1)
    rem = 0
    for byte in block:
        rem = (rem << 8) & mask ^ table[byte ^ rem >> shift]
    return rem.to_bytes(ec_count, "big")


def codewords(segs: list[QRData], version: int, payloads: list[tuple[int, int]]) -> list[int]:
    """The symbol's codewords, data blocks and error correction interleaved: `qrcode.util.create_data`'s."""
    value = nbits = 0
    for seg, (payload, n) in zip(segs, payloads, strict=True):
        width = length_in_bits(seg.mode, version)
        value = ((value << 4 | seg.mode) << width | len(seg)) << n | payload
        nbits += 4 + width + n
    blocks = base.rs_blocks(version, EC)
    limit = BIT_LIMIT_TABLE[EC][version]
    terminator = min(limit - nbits, 4)  # up to four 0 bits, then 0 bits to the byte's end
    pad = (8 - (nbits + terminator) % 8) % 8
    value, nbits = value << terminator + pad, nbits + terminator + pad
    data = value.to_bytes(nbits // 8, "big") + bytes([PAD0, PAD1] * (limit // 16 + 1))[: (limit - nbits) // 8]
    dc, ec, offset = [], [], 0
    for block in blocks:
        dc.append(data[offset : offset + block.data_count])
        ec.append(_remainder(dc[-1], block.total_count - block.data_count))
        offset += block.data_count
    out: list[int] = []
    for group in (dc, ec):
        for i in range(max(map(len, group))):
            out += [b[i] for b in group if i < len(b)]
    return out


def make_qr(text: str) -> qrcode.QRCode:
    segs = _segments(text)
    payloads = [_payload_bits(s) for s in segs]
    version = _version(segs, payloads)
    qr = qrcode.QRCode(version=version, error_correction=EC, border=4, mask_pattern=MASK)
    qr.data_list = segs
    qr.data_cache = codewords(segs, version, payloads)
    qr.makeImpl(False, MASK)  # what `make(fit=False)` does, without computing the codewords again
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
