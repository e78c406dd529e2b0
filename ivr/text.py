"""Text normalisation shared by keyword matching and emergency detection.

Residents type on small keyboards and speech recognisers drop accents: both sides of
every comparison go through `fold`, so "Român", "roman" and "ROMAN!" meet.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache

_APOSTROPHES = {"'", "\u2019", "\u02bc", "`"}
# Latin letters with a stroke do not decompose in Unicode; people type them bare.
_BARE = str.maketrans({"ł": "l", "đ": "d", "ø": "o", "ı": "i", "ß": "ss", "ħ": "h"}
                      # Arabic is typed with and without hamza seats, madda, taa marbuta and
                      # alef maqsura, and with or without short vowels (tashkeel) and tatweel:
                      # "أخي", "اخي" and "إخي" are one word to a reader.
                      | {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ؤ": "و", "ئ": "ي", "ة": "ه",
                         "ى": "ي", "ـ": ""}
                      | {chr(c): "" for c in range(0x064B, 0x0660)} | {"\u0670": ""}
                      # Arabic-Indic, Persian and Gurmukhi digits are the same numbers: "٩٩٩" is 999.
                      | {chr(base + d): str(d) for base in (0x0660, 0x06F0, 0x0A66) for d in range(10)})


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    cat = unicodedata.category(ch)
    if cat[0] in "LN":
        return ch
    if cat[0] == "M":
        # Accents on Latin, Greek and Cyrillic letters go; vowel signs of Gurmukhi or
        # Arabic script stay (they are part of the word).
        return "" if unicodedata.combining(ch) and ord(ch) < 0x0590 else ch
    return "" if ch in _APOSTROPHES else " "


# Plain ASCII text (most English messages and keywords) takes a fast path: one table.
_ASCII = str.maketrans({chr(c): (chr(c) if chr(c).isalnum() else " ") for c in range(128)}
                       | {"'": "", "`": ""})


def script_of(text: str) -> str | None:
    """The writing system most of the letters of `text` are in: "LATIN", "ARABIC"..."""
    counts: dict[str, int] = {}
    for ch in text[:200]:
        if ch.isalpha():
            script = unicodedata.name(ch, "").split(" ")[0]
            counts[script] = counts.get(script, 0) + 1
    return max(counts, key=counts.get) if counts else None


def scripts_in(text: str) -> set[str]:
    """Every writing system `text` has a letter in ("карта keep safe": Cyrillic and Latin)."""
    if text.isascii():
        return {"LATIN"} if any(ch.isalpha() for ch in text) else set()
    return {unicodedata.name(ch, "").split(" ")[0] for ch in text[:200] if ch.isalpha()}


def fold(text: str) -> str:
    """Lower-case, strip Latin accents and punctuation, collapse spaces."""
    if text.isascii():
        return " ".join(text.lower().translate(_ASCII).split())
    text = unicodedata.normalize("NFKD", text.casefold().translate(_BARE))
    return " ".join("".join(_fold_char(ch) for ch in text).split())
