"""SMS length the way carriers count it: GSM-7 or UCS-2, single or multi-part.

GSM-7 fits 160 characters in one segment and 153 per segment once split; its extension
characters (^ { } \\ [ ~ ] | €) count twice. Any other character turns the whole message
into UCS-2: 70 characters, or 67 per segment, counted in UTF-16 code units.
"""
from __future__ import annotations

import re

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = "^{}\\[~]|€\f"
_GSM7 = set(GSM7_BASIC)
_EXT = set(GSM7_EXTENDED)

# Look-alikes that silently push English text into UCS-2.
_PLAIN = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
    "\u2013": "-", "\u2014": "-", "\u2012": "-", "\u2010": "-", "\u2011": "-", "\u2212": "-",
    "\u2026": "...", "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u200b": "",
    "\u2022": "-", "\u00b7": "-", "\t": " ",
})


def plain(text: str) -> str:
    """Replace typographic look-alikes with their GSM-7 equivalents."""
    return text.translate(_PLAIN)


def unaccented(text: str) -> str:
    """Letters outside GSM-7 without their accents ("ă ș ț" -> "a s t"), for a language
    whose texts must stay in GSM-7 though its spoken words keep their diacritics."""
    import unicodedata
    out = []
    for ch in plain(text):
        if ch in _GSM7 or ch in _EXT:
            out.append(ch)
        else:
            base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
            out.append(base if base and all(c in _GSM7 for c in base) else ch)
    return "".join(out)


_ALL_GSM7 = frozenset(_GSM7 | _EXT)


def is_gsm7(text: str) -> bool:
    return _ALL_GSM7.issuperset(text)


def units(text: str) -> int:
    """Length in the message's own units: septets for GSM-7, UTF-16 code units for UCS-2."""
    if is_gsm7(text):
        return len(text) + sum(text.count(ch) for ch in _EXT)
    return len(text.encode("utf-16-le")) // 2


def segments(text: str) -> int:
    """How many parts a carrier bills for this message."""
    if not text:
        return 1
    n = units(text)
    single, multi = (160, 153) if is_gsm7(text) else (70, 67)
    return 1 if n <= single else -(-n // multi)


def capacity(gsm7: bool, parts: int) -> int:
    single, multi = (160, 153) if gsm7 else (70, 67)
    return single if parts == 1 else multi * parts


# After a sentence's end, but not after a short abbreviation ("np.", "e.g.", "ex."): a
# cut there would leave "Text a topic, e.g." and nothing else.
_SENTENCE_END = re.compile(r"(?<!\b\w\.)(?<!\b\w\w\.)(?<=[.!?;:\u061f\u06d4\u0964])\s+|\n")


def fit(text: str, parts: int, suffix: str) -> tuple[str, str]:
    """Cut `text` to `parts` segments at a sentence boundary, adding `suffix` when cut.

    Returns (what to send now, what is left for MORE). Words are never split, and the
    suffix always fits.
    """
    text = text.strip()
    if segments(text) <= parts:
        return text, ""
    gsm = is_gsm7(text + suffix)
    room = capacity(gsm, parts) - units("\n" + suffix)
    # Length of every prefix, in the whole message's encoding, computed once.
    size = [0]
    for ch in text:
        size.append(size[-1] + ((2 if ch in _EXT else 1) if gsm else len(ch.encode("utf-16-le")) // 2))
    sentence_cuts = [m.start() for m in _SENTENCE_END.finditer(text)]
    word_cuts = [m.start() for m in re.finditer(r"\s+", text)]
    cut = 0
    for cuts in (sentence_cuts, word_cuts):
        fitting = [c for c in cuts if size[c] <= room]
        if fitting:
            cut = max(fitting)
            break
    if cut == 0:  # one unbroken run of characters: cut it anywhere
        cut = max(1, room)
        while cut > 1 and size[min(cut, len(text))] > room:
            cut -= 1
    head, rest = text[:cut].rstrip(), text[cut:].strip()
    return (f"{head}\n{suffix}", rest) if rest else (head, "")
