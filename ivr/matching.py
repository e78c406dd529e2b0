"""Find what a resident means from a few typed or spoken words.

Built once per language when the app starts: an index of every keyword and synonym
phrase (as tuples of word forms), a table of inflected forms (`forms.json`, made from
simplemma's dictionaries by `ivr-line forms`, so the webhook never loads a lemmatizer)
and a deletion index for typos. A lookup costs a handful of dictionary probes however
big the catalogue grows: no scan of the catalogue per request.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from rapidfuzz.distance import OSA

from .text import fold

MAX_PHRASE = 12     # longest phrase, in words
WHOLE_KINDS = (frozenset({"sms"}), frozenset({"language"}))   # looked up whole on every text
SPOKEN_COMMAND = frozenset({"command"})    # looked up whole on every spoken answer
BAG_SHARE = 0.25    # weight of loose word overlap against exact phrases
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
    exact: bool = True     # a whole keyword or synonym was found, not only loose words


def _deletes(word: str) -> set[str]:
    """Every string one deletion away: the symmetric-delete index behind typo tolerance."""
    return {word[:i] + word[i + 1:] for i in range(len(word))} if len(word) > 2 else set()


def _max_edits(word: str) -> int:
    return 0 if len(word) < MIN_FUZZY else (1 if len(word) < 8 else 2)


class Matcher:
    """Phrases -> targets, for one language."""

    def __init__(self, forms: dict[str, str] | None = None, typos: bool = True,
                 stopwords: frozenset[str] = frozenset(), literal: frozenset[str] = frozenset()):
        self._forms = forms or {}       # folded inflected form -> folded base form
        self._stop = stopwords          # never a loose word ("my", "się"): they say nothing
        self._literal = stopwords | literal   # never a typo: "what" is not "chat"
        self._typos = typos             # keep a typo index (the exact-words view needs none)
        self._phrases: dict[tuple[str, ...], list[tuple[Target, float, int]]] = {}
        self._vocab: set[str] = set()
        self._deletes: dict[str, tuple[str, ...]] = {}   # one-deletion form -> words
        self._bag: dict[str, dict[Target, float]] = {}   # word -> targets, for loose sentences
        self._topics: dict[str, set[str]] = {}           # word -> services whose words include it
        self._order = 0
        self._built = False

    def _norm(self, word: str) -> str:
        return self._forms.get(word, word)

    def add(self, phrase: str, target: Target, weight: float = 1.0) -> None:
        written = fold(phrase).split()
        words = tuple(self._norm(w) for w in written)
        if not words or len(words) > MAX_PHRASE:
            return
        self._order += 1
        self._built = False
        self._phrases.setdefault(words, []).append((target, weight, self._order))
        if target.kind in ("service", "category"):
            for w in words:
                if len(w) >= 3 and w not in self._stop:
                    self._bag.setdefault(w, {})[target] = weight
        if target.kind == "service":
            self.add_topic(phrase, target.id)
        for w in set(words) | set(written):   # base and written forms
            if w not in self._vocab:
                self._vocab.add(w)
                if self._typos and _max_edits(w):
                    for d in _deletes(w):
                        self._deletes[d] = (*self._deletes.get(d, ()), w)

    def add_topic(self, phrase: str, service_id: str) -> None:
        """Words (a title's too) that lead to a service when texted or said on their own."""
        for w in fold(phrase).split():
            if len(w) >= 3:
                self._topics.setdefault(self._norm(w), set()).add(service_id)

    def _correct(self, word: str) -> str:
        """The vocabulary word a typo most likely meant, or the word itself."""
        if word in self._vocab or word in self._forms or word in self._literal or _max_edits(word) == 0:
            return word
        limit = _max_edits(word)
        # A word and a typo of it share a one-deletion form (or one is the other's).
        candidates = set(self._deletes.get(word, ()))
        for d in _deletes(word):
            candidates.update(self._deletes.get(d, ()))
            if d in self._vocab:
                candidates.add(d)
        best, best_dist = word, limit + 1
        for cand in sorted(candidates):
            dist = OSA.distance(word, cand, score_cutoff=limit)
            if dist < best_dist:
                best, best_dist = cand, dist
        return best

    def _build(self) -> None:
        """Weigh each loose word by how few targets share it (rare words say more), and
        pack the typo index into tuples (a third of the memory of sets)."""
        targets = {t for owners in self._bag.values() for t in owners}
        n = max(1, len(targets))
        for word, owners in self._bag.items():
            idf = math.log(1 + n / len(owners))
            for t in owners:
                owners[t] = idf
        self._built = True

    def words(self, text: str, typos: bool = True) -> list[str]:
        """The text's words in base form, typos corrected against the catalogue's words."""
        raw = fold(text).split()
        if typos and self._typos:
            raw = [self._correct(w) for w in raw]
        return [self._norm(w) for w in raw]

    def match(self, text: str, kinds: set[str] | None = None, typos: bool = True,
              loose: bool = True) -> Match | None:
        """The best target for the text, typos corrected, loose words counted.

        Exact phrases count by their length in words; loose words shared with a target's
        phrases add a little, weighted by rarity, so a sentence that says "passed too
        close to my bike" still finds the close-pass service. A target needs an exact
        phrase or at least two shared words.
        """
        if not self._built:
            self._build()
        words = self.words(text[:600], typos=typos)[:60]
        exact: dict[Target, tuple[float, int, str]] = {}
        covered = [False] * len(words)   # words already explained by a longer phrase
        for n in range(min(MAX_PHRASE, len(words)), 0, -1):
            for i in range(len(words) - n + 1):
                if any(covered[i:i + n]):
                    continue
                key = tuple(words[i:i + n])
                hits = [h for h in self._phrases.get(key, ()) if not kinds or h[0].kind in kinds]
                for target, weight, order in hits:
                    score, first, phrase = exact.get(target, (0.0, order, " ".join(key)))
                    exact[target] = (score + n * weight, min(first, order), phrase)
                if hits:
                    covered[i:i + n] = [True] * n
        shared: dict[Target, list] = {}
        for w in set(words) if loose else ():
            for target, idf in self._bag.get(w, {}).items():
                if not kinds or target.kind in kinds:
                    entry = shared.setdefault(target, [0.0, 0, w])
                    entry[0] += idf * BAG_SHARE
                    entry[1] += 1
        best = None
        for target in set(exact) | {t for t, e in shared.items() if e[1] >= 2}:
            score, order, phrase = exact.get(target, (0.0, 10**9, ""))
            extra = shared.get(target)
            if extra:
                score += extra[0]
            rank = (score, -order)
            if best is None or rank > best[0]:
                best = (rank, Match(target, score, phrase or extra[2], exact=bool(phrase)))
        return best[1] if best else None


class LanguageMatcher:
    """One language's matching: the words as the catalogue spells them first, then their
    inflected forms (from forms.json), then typos. Exact words win, so a lemmatizer's
    guess never overrides a keyword a translator chose and checked."""

    def __init__(self, forms: dict[str, str], stopwords: frozenset[str] = frozenset(),
                 common: frozenset[str] = frozenset()):
        """`stopwords`: this language's; `common`: every offered language's, which are
        never read as typos of this language's words (an English "what" is not a Romanian
        "chat" when every language reads a first text)."""
        self.stopwords = frozenset(fold(w) for w in stopwords)   # never a topic on their own
        base = self.stopwords | {forms.get(w, w) for w in self.stopwords}
        literal = frozenset(fold(w) for w in common)
        self.inflected = Matcher(forms, stopwords=base, literal=literal) if forms else None
        self.exact = Matcher(typos=self.inflected is None, stopwords=base, literal=literal)
        self._exactly: dict[frozenset[str], dict[str, Target]] = {}

    def exactly(self, folded: str, kinds: frozenset[str]) -> Target | None:
        """The target one of whose phrases is the whole (folded) message, as written or in
        a base form: what `match(folded, kinds, fuzzy=False)` finds when its phrase is all
        of the message, in one dict lookup (every text is tried as a command word)."""
        index = self._exactly.get(kinds)
        if index is None:
            index = self._exactly[kinds] = self._whole_index(kinds)
        return index.get(folded)

    def _whole_index(self, kinds: frozenset[str]) -> dict[str, Target]:
        best: dict[str, tuple] = {}
        for rank, view in enumerate(v for v in (self.exact, self.inflected) if v is not None):
            for words, hits in view._phrases.items():
                if any(view._norm(w) != w for w in words):
                    continue        # a base form no message could be read as whole
                for target, weight, order in hits:
                    # Folded as messages are (a lemma table may hold "على" where a
                    # message folds to "علي").
                    key, ranked = fold(" ".join(words)), (-rank, weight, -order)
                    if target.kind in kinds and (key not in best or ranked > best[key][0]):
                        best[key] = (ranked, target)
        return {key: target for key, (_, target) in best.items()}

    def whole_phrases(self, kinds: set[str]):
        """(phrase as written and folded, target, weight) of every phrase, for whole-message lookups."""
        for words, hits in self.exact._phrases.items():
            for target, weight, _ in hits:
                if target.kind in kinds:
                    yield " ".join(words), target, weight

    def topic(self, text: str, limit: int = 5) -> list[str]:
        """The services an everyday word (or two or three) belongs to: "dog" -> stray
        dogs, banned dogs, animal crime. Empty when the words are in none, or in more than
        `limit` (too general to be a choice: "police"). Written and inflected forms are
        read (not typos: a near miss of a word is not a topic); a language's stopwords
        ("the", "ਹੋਰ") never are one."""
        views = [self.exact] + ([self.inflected] if self.inflected else [])
        per_word: dict[int, set[str]] = {}
        for view in views:
            if not view._built:
                view._build()
            words = view.words(text[:100], typos=False)
            if not words or len(words) > 3:
                return []
            for j, w in enumerate(words):
                if len(w) >= 3 and w not in self.stopwords:
                    per_word.setdefault(j, set()).update(view._topics.get(w, ()))
        sets = [o for o in per_word.values() if o]
        if not sets or len(sets) < len(per_word):
            # A word the catalogue does not know ("hate crime", "car stolen") may be the
            # one that matters: no guess from the others.
            return []
        # Every word the catalogue knows must point the same way ("stray dog"), or it is
        # a sentence the loose matcher could not read, not a topic.
        owners = set.intersection(*sets)
        return sorted(owners) if 0 < len(owners) <= limit else []

    def freeze(self) -> None:
        """Finish the indexes at start-up, before workers share them."""
        for view in (self.exact, self.inflected):
            if view is not None:
                view._build()
        for kinds in (*WHOLE_KINDS, SPOKEN_COMMAND):
            self.exactly("", kinds)

    def add(self, phrase: str, target: Target, weight: float = 1.0) -> None:
        self.exact.add(phrase, target, weight)
        if self.inflected is not None:
            self.inflected.add(phrase, target, weight)

    def add_topic(self, phrase: str, service_id: str) -> None:
        for view in (self.exact, self.inflected):
            if view is not None:
                view.add_topic(phrase, service_id)

    def match(self, text: str, kinds: set[str] | None = None, fuzzy: bool = True,
              typos: bool = True) -> Match | None:
        """With `fuzzy` off, only whole phrases as written; on, also loose sentences, other
        forms of a word and (unless `typos` is off) typos."""
        views = [self.exact] + ([self.inflected] if self.inflected else [])
        for view in views:
            found = view.match(text, kinds, typos=False, loose=fuzzy)
            if found is not None:
                return found
        return views[-1].match(text, kinds, typos=True, loose=True) if fuzzy and typos else None
