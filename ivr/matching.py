"""Find what a resident means from a few typed or spoken words.

Built once per language when the app starts: an index of every keyword and synonym
phrase (as tuples of word forms), a table of inflected forms (`forms.json`, made from
simplemma's dictionaries by `ivr-line forms`, so the webhook never loads a lemmatizer)
and a deletion index for typos. A lookup costs a handful of dictionary probes however
big the catalogue grows: no scan of the catalogue per request.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from rapidfuzz.distance import OSA

from .text import fold

MAX_PHRASE = 5      # longest phrase, in words
MIN_FUZZY = 4       # shorter words must be spelled right ("gun" is not "fun")


@dataclass(frozen=True)
class Target:
    kind: str   # "service", "category", "language", "command"
    id: str


@dataclass(frozen=True)
class Match:
    target: Target
    score: float
    phrase: str


def _deletes(word: str, depth: int) -> set[str]:
    out = set()
    for d in range(1, depth + 1):
        if len(word) - d < 2:
            break
        for idx in combinations(range(len(word)), d):
            out.add("".join(ch for i, ch in enumerate(word) if i not in idx))
    return out


def _max_edits(word: str) -> int:
    return 0 if len(word) < MIN_FUZZY else (1 if len(word) < 8 else 2)


class Matcher:
    """Phrases -> targets, for one language."""

    def __init__(self, forms: dict[str, str] | None = None):
        self._forms = forms or {}       # folded inflected form -> folded base form
        self._phrases: dict[tuple[str, ...], list[tuple[Target, float, int]]] = {}
        self._vocab: set[str] = set()
        self._deletes: dict[str, set[str]] = {}
        self._order = 0

    def _norm(self, word: str) -> str:
        return self._forms.get(word, word)

    def add(self, phrase: str, target: Target, weight: float = 1.0) -> None:
        words = tuple(self._norm(w) for w in fold(phrase).split())
        if not words or len(words) > MAX_PHRASE:
            return
        self._order += 1
        self._phrases.setdefault(words, []).append((target, weight, self._order))
        for w in words:
            if w not in self._vocab:
                self._vocab.add(w)
                for d in _deletes(w, _max_edits(w)):
                    self._deletes.setdefault(d, set()).add(w)

    def _correct(self, word: str) -> str:
        """The vocabulary word a typo most likely meant, or the word itself."""
        if word in self._vocab or _max_edits(word) == 0:
            return word
        limit = _max_edits(word)
        candidates = set(self._deletes.get(word, ()))
        for d in _deletes(word, limit):
            candidates |= self._deletes.get(d, set())
            if d in self._vocab:
                candidates.add(d)
        best, best_dist = word, limit + 1
        for cand in sorted(candidates):
            dist = OSA.distance(word, cand, score_cutoff=limit)
            if dist < best_dist:
                best, best_dist = cand, dist
        return best

    def words(self, text: str) -> list[str]:
        return [self._correct(self._norm(w)) for w in fold(text).split()]

    def match(self, text: str, kinds: set[str] | None = None) -> Match | None:
        """The best target for the text, longest and strongest phrases first."""
        words = self.words(text)[:60]
        scores: dict[Target, list] = {}
        for n in range(min(MAX_PHRASE, len(words)), 0, -1):
            for i in range(len(words) - n + 1):
                key = tuple(words[i:i + n])
                for target, weight, order in self._phrases.get(key, ()):
                    if kinds and target.kind not in kinds:
                        continue
                    entry = scores.setdefault(target, [0.0, order, " ".join(key)])
                    entry[0] += n * weight
                    entry[1] = min(entry[1], order)
        if not scores:
            return None
        target, (score, _, phrase) = max(scores.items(), key=lambda kv: (kv[1][0], -kv[1][1]))
        return Match(target, score, phrase)
