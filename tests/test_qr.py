"""The QR symbol: sonod computes the codewords itself, and they must be exactly those of the `qrcode` package."""

import random

import pytest
import qrcode
from qrcode import util

from sonod.qr import EC, MASK, _segments, make_qr, qr_matrix

BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
URL = "https://sonod.example.gov.bd/verify?c="


def texts() -> list[str]:
    rng = random.Random(8)
    out = [URL + "".join(rng.choice(BASE32) for _ in range(n)) for n in range(0, 1400, 37)]
    out += ["".join(rng.choice(BASE32) for _ in range(n)) for n in (1, 2, 19, 20, 21, 333)]  # odd and even tails
    out += ["".join(chr(rng.randint(32, 0x9FF)) for _ in range(n)) for n in (1, 40, 300)]  # bytes only, UTF-8
    return out


def reference(text: str) -> qrcode.QRCode:
    """What `qrcode` makes of the same segments with its own `make`: best fit, create_data, the fixed mask."""
    qr = qrcode.QRCode(error_correction=EC, border=4, mask_pattern=MASK)
    for segment in _segments(text):
        qr.add_data(segment, optimize=0)
    qr.make(fit=True)
    return qr


@pytest.mark.parametrize("text", texts(), ids=lambda t: f"{len(t)}chars")
def test_the_codewords_and_version_are_those_of_qrcode(text):
    ours, theirs = make_qr(text), reference(text)
    assert ours.version == theirs.version
    assert ours.data_cache == util.create_data(theirs.version, EC, _segments(text))


@pytest.mark.parametrize("text", texts()[::5], ids=lambda t: f"{len(t)}chars")
def test_the_matrix_is_that_of_qrcode_with_the_fixed_mask(text):
    assert qr_matrix(text) == reference(text).get_matrix()


def test_a_text_too_long_for_any_version_is_refused():
    with pytest.raises(qrcode.exceptions.DataOverflowError):
        make_qr("x" * 3000)
