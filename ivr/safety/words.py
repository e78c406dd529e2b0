"""The word lists: phrases that mean danger now, per language, readable and reviewable.

`catalogue/emergency/<lang>.yaml` holds, for each language, phrases written for it (not
translated). They catch the plain cries ("help me", "999", "pomocy") with no model at
all, and they stay the part of the detector a person can read and correct.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..catalogue import read_yaml
from ..text import fold

# Three or more of one letter in a row, as panic stretches a word. (Romanian "copiii"
# becomes "copi" too: phrases are read the same way, so it still matches itself.)
_STRETCHED = re.compile(r"([^\W\d_])\1{2,}")


def _folded(text: str) -> str:
    return _STRETCHED.sub(r"\1", fold(text))


def _phrases(rows) -> frozenset[tuple[str, ...]]:
    return frozenset(tuple(_folded(str(r)).split()) for r in rows or () if _folded(str(r)))


@dataclass(frozen=True)
class Rules:
    """One language's emergency words, each phrase as a tuple of folded words."""
    signposts: frozenset
    phrases: frozenset
    threats: frozenset
    present: frozenset
    hedges: frozenset = frozenset()   # "last year", "what should I do if": not now, not here
    now: frozenset = frozenset()      # "now", "again", "outside": the hedge does not hold
    alone: frozenset = frozenset()    # "police!", "ambulance": danger when the whole message


class WordLists:
    """Emergency phrases for every language, checked all at once.

    All languages are checked for every message: someone writing in Polish to an English
    session is still in danger, and "999" is the same everywhere. Phrases are looked up
    as runs of words starting at words that begin some phrase, so a check costs a few
    dictionary probes per word, whatever the lists hold.
    """

    KINDS = ("phrases", "threats", "present")

    def __init__(self, rules: dict[str, Rules], accented: frozenset[str] = frozenset()):
        self.rules = rules
        self._signposts = frozenset().union(*(r.signposts for r in rules.values()))
        self._hedges = frozenset().union(*(r.hedges for r in rules.values()))
        self._now = frozenset().union(*(r.now for r in rules.values()))
        self._alone: dict[tuple[str, ...], set[str]] = {}
        for lang, r in rules.items():
            for phrase in r.alone:
                self._alone.setdefault(phrase, set()).add(lang)
        # phrase -> [(language, kind)], for one probe per run of words
        self._index: dict[tuple[str, ...], list[tuple[str, str]]] = {}
        for lang, r in rules.items():
            for kind in self.KINDS:
                for phrase in getattr(r, kind):
                    self._index.setdefault(phrase, []).append((lang, kind))
        self._order = {first: sorted(rules, key=lambda c: (c != first, c != "en", c)) for first in rules}
        # Words that begin some phrase of a list, and the lengths its phrases come in.
        self._heads = {name: ({p[0] for p in phrases}, sorted({len(p) for p in phrases}, reverse=True))
                       for name, phrases in (("signposts", self._signposts), ("hedges", self._hedges),
                                             ("now", self._now), ("index", frozenset(self._index)))}
        # Every word of every list, for reading Arabic's joined "and" (below).
        self._vocab = frozenset(w for phrases in (self._signposts, self._hedges, self._now,
                                                  frozenset(self._index), frozenset(self._alone))
                                for p in phrases for w in p)
        # Words whose accents tell them apart from a danger word (Portuguese "faça", do,
        # is not "faca", knife): written with their accents, they are kept apart.
        self._accented = re.compile(r"\b(" + "|".join(sorted(map(re.escape, accented), key=len, reverse=True))
                                    + r")\b") if accented else None

    @classmethod
    def load(cls, directory: Path) -> "WordLists":
        rules, accented = {}, set()
        for path in sorted(Path(directory).glob("*.yaml")):
            r = read_yaml(path) or {}
            rules[path.stem] = Rules(*(_phrases(r.get(part)) for part in
                                       ("signposts", "phrases", "threats", "present", "hedges", "now",
                                        "alone")))
            accented |= {unicodedata.normalize("NFC", str(w)).casefold() for w in r.get("accented") or ()}
        if "en" not in rules:
            raise ValueError(f"{directory}: no en.yaml of emergency words")
        return cls(rules, frozenset(accented))

    def words(self, text: str) -> list[str]:
        """The message as folded words, with accent-distinguished words kept apart, and a
        letter stretched by panic ("heeelp", "AJUTOOOR") written once."""
        if self._accented is not None and not text.isascii():
            text = self._accented.sub(r"\g<1>0", unicodedata.normalize("NFC", text).casefold())
        return _folded(text).split()

    def _unjoined(self, words: list[str]) -> list[str]:
        """Arabic writes "and" (و) and "so" (ف) joined to the next word: "ولا أستطيع
        التنفس" is "and I cannot breathe". A word the lists do not know is read without
        that letter when the rest is a word they do know."""
        return [w[1:] if w[0] in "وف" and len(w) > 2 and w not in self._vocab and w[1:] in self._vocab
                else w for w in words]

    def _found(self, words: list[str], name: str, phrases) -> list[tuple[int, int]]:
        """(start, length) of every run of `words` in `phrases`, longest first at each start."""
        heads, lengths = self._heads[name]
        out = []
        for i, w in enumerate(words):
            if w in heads:
                for n in lengths:
                    if i + n <= len(words) and tuple(words[i:i + n]) in phrases:
                        out.append((i, n))
        return out

    def _strip(self, words: list[str], name: str, phrases) -> tuple[list[str], bool]:
        """The words left once every run in `phrases` is taken out (longest first)."""
        found = self._found(words, name, phrases)
        if not found:
            return words, False
        keep = [True] * len(words)
        for i, n in sorted(found, key=lambda f: -f[1]):
            if all(keep[i:i + n]):
                keep[i:i + n] = [False] * n
        return [w for w, k in zip(words, keep) if k], True

    def which(self, text: str, first: str = "en") -> str | None:
        """The language whose words found danger in `text` (all of it), or None.

        The `first` language (the conversation's) is tried first, then English, then the
        rest, so words every language shares ("999", "help") keep the reply's language.
        """
        found = self.why(text, first)
        return found[0] if found else None

    def why(self, text: str, first: str = "en") -> tuple[str, str] | None:
        """(language, the words that fired), or None: for reviewers and `safety report`.

        Questions about a service (signposts, in any language) are taken out first. A
        message told as past or as a question ("last year", "what should I do if") with no
        word of now in it is left to the model, which reads the whole message."""
        words = self._unjoined(self.words(text or ""))
        if not words:
            return None
        bare = self._alone.get(tuple(words))
        if bare:
            return next(c for c in self._order.get(first, self._order["en"]) if c in bare), " ".join(words)
        left, _ = self._strip(words, "signposts", self._signposts)
        if self._hedges:
            unhedged, hedged = self._strip(left, "hedges", self._hedges)
            if hedged and not self._found(unhedged, "now", self._now):
                return None
        hits: dict[str, dict[str, list[str]]] = {}
        for i, n in self._found(left, "index", self._index):
            phrase = tuple(left[i:i + n])
            for lang, kind in self._index[phrase]:
                hits.setdefault(lang, {}).setdefault(kind, []).append(" ".join(phrase))
        for lang in self._order.get(first, self._order["en"]):
            got = hits.get(lang)
            if not got:
                continue
            if "phrases" in got:
                return lang, min(got["phrases"])
            if "threats" in got and "present" in got:
                return lang, min(got["threats"]) + " + " + min(got["present"])
        return None
