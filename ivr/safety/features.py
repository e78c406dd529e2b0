"""What the danger model sees of a message: shared by training and run time.

A message is folded (case, accents, punctuation, Arabic letter forms: `text.fold`), cut
into words, and described by two blocks of hashed features:

- the character 2- to 5-grams of each word with its edges marked ("<help>": "<h", "he",
  ..., "lp>"), which survive typos, text-speak, inflection and missing diacritics;
- each word, and each pair of neighbouring words, which catch "on fire" against
  "fire setter" and "last year" against "right now".

Each block's counts are divided by the square root of its size (so a long message does
not score higher for being long), and the word block weighs `WORD_WEIGHT` times the
character block. Hashing (CRC-32) needs no vocabulary in memory.
"""
from __future__ import annotations

import math
import zlib
from functools import lru_cache

VERSION = 3          # change when the features change: the shipped model is then stale
MIN_N, MAX_N = 2, 5
MAX_WORD = 40        # characters of one word used (a run of letters longer than this is noise)
WORD_WEIGHT = 2.0
WINDOW, STRIDE = 16, 8   # a long message is read in overlapping windows of words
_WORD, _PAIR = 0x9E3779B9, 0x85EBCA6B   # CRC start values that keep words and pairs apart from n-grams


@lru_cache(maxsize=4096)
def char_hashes(word: str) -> tuple[int, ...]:
    """The 32-bit hashes of one folded word's character n-grams (cached: words repeat)."""
    edged = f"<{word[:MAX_WORD]}>"
    return tuple(zlib.crc32(edged[i:i + n].encode())
                 for n in range(MIN_N, MAX_N + 1) for i in range(len(edged) - n + 1))


def blocks(words: list[str]) -> tuple[list[int], list[int]]:
    """(character n-gram hashes, word and word-pair hashes) of a run of folded words."""
    chars: list[int] = []
    for w in words:
        chars.extend(char_hashes(w))
    return chars, [word_hash(w) for w in words] + pair_hashes(words)


def weighted(words: list[str]) -> list[tuple[int, float]]:
    """Every feature hash with its value (repeats add up): what the model is trained on."""
    chars, wordish = blocks(words)
    out = [(h, 1.0 / math.sqrt(len(chars))) for h in chars] if chars else []
    out += [(h, WORD_WEIGHT / math.sqrt(len(wordish))) for h in wordish] if wordish else []
    return out


def word_hash(word: str) -> int:
    return zlib.crc32(word[:MAX_WORD].encode(), _WORD)


def pair_hashes(words: list[str]) -> list[int]:
    return [zlib.crc32(f"{a[:MAX_WORD]} {b[:MAX_WORD]}".encode(), _PAIR) for a, b in zip(words, words[1:])]


def language_hashes(words: list[str]) -> list[int]:
    """What the language model counts: each word's character n-grams and the word itself."""
    out: list[int] = []
    for w in words:
        out.extend(char_hashes(w))
        out.append(word_hash(w))
    return out


def windows(words: list[str]) -> list[list[str]]:
    """The runs of words a message is scored on: all of it when short, else overlapping
    windows, so one sentence of danger in a long message is not diluted by the rest."""
    if len(words) <= WINDOW:
        return [words]
    last = len(words) - WINDOW
    starts = list(range(0, last + 1, STRIDE))
    if starts[-1] != last:
        starts.append(last)
    return [words[i:i + WINDOW] for i in starts]
