"""SMS segments: GSM-7 160/153, UCS-2 70/67; Bengali is UCS-2."""

from __future__ import annotations

import pytest

from activities.sms.segments import segments

KA = "ক"  # one UTF-16 unit


@pytest.mark.parametrize(("text", "encoding", "count"), [
    ("আপনার আবেদন গৃহীত হয়েছে।", "ucs2", 1),
    (KA * 70, "ucs2", 1),
    (KA * 71, "ucs2", 2),  # concatenated: 67 a part
    (KA * 134, "ucs2", 2),
    (KA * 135, "ucs2", 3),
    ("a" * 160, "gsm7", 1),
    ("a" * 161, "gsm7", 2),  # 153 a part
    ("a" * 306, "gsm7", 2),
    ("a" * 307, "gsm7", 3),
    ("€" * 80, "gsm7", 1),  # an extension character costs two septets
    ("€" * 81, "gsm7", 2),
    ("Application A261128-A05B37A2" + KA, "ucs2", 1),  # one Bengali letter makes it all UCS-2
    ("a" * 69 + KA, "ucs2", 1),
    ("a" * 70 + KA, "ucs2", 2),
])
def test_segments_count_as_the_network_does(text, encoding, count):
    found = segments(text)
    assert (found.encoding, found.count) == (encoding, count)


def test_a_character_outside_the_basic_plane_is_two_ucs2_units():
    assert segments("😀" * 35).units == 70 and segments("😀" * 35).count == 1
    assert segments("😀" * 36).count == 2
