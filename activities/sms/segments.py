"""How many SMS segments a text costs: GSM 03.38 7-bit (160 a message, 153 a part when concatenated) when every
character is in the GSM alphabet, else UCS-2 (70, or 67 a part): Bengali is always UCS-2."""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")  # each costs two septets (an escape and the character)
LIMITS = {"gsm7": (160, 153), "ucs2": (70, 67)}


@dataclass(frozen=True)
class Segments:
    encoding: str  # gsm7 or ucs2
    units: int  # septets (gsm7) or UTF-16 code units (ucs2)
    count: int


def segments(text: str) -> Segments:
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text):
        encoding, units = "gsm7", sum(2 if c in GSM7_EXTENDED else 1 for c in text)
    else:
        encoding, units = "ucs2", len(text.encode("utf-16-le")) // 2
    single, part = LIMITS[encoding]
    count = 1 if units <= single else -(-units // part)
    return Segments(encoding, units, count)
