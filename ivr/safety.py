"""Emergency detection: does this message or answer mean someone is in danger now?

Runs before any routing on every SMS and every spoken answer. The words live in
`catalogue/emergency/<lang>.yaml`, one file per language. Errs on the side of 999: a false alarm costs
one extra line of text, a missed emergency costs far more.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .catalogue import read_yaml

from .text import fold


def _phrases(rows) -> frozenset[tuple[str, ...]]:
    return frozenset(tuple(fold(str(r)).split()) for r in rows or () if fold(str(r)))


@dataclass(frozen=True)
class Rules:
    """One language's emergency words, each phrase as a tuple of folded words."""
    signposts: frozenset
    phrases: frozenset
    threats: frozenset
    present: frozenset


class Detector:
    """Emergency phrases for every language, checked all at once.

    All languages are checked for every message: someone writing in Polish to an English
    session is still in danger, and "999" is the same everywhere. Phrases are looked up
    as runs of words, so a check costs a few set probes per word, whatever the lists hold.
    """

    def __init__(self, rules: dict[str, Rules]):
        self.rules = rules
        self._signposts = frozenset().union(*(r.signposts for r in rules.values()))
        self._longest = max((len(p) for r in rules.values()
                             for p in r.signposts | r.phrases | r.threats | r.present), default=1)

    @classmethod
    def load(cls, directory: Path) -> "Detector":
        rules = {}
        for path in sorted(Path(directory).glob("*.yaml")):
            r = read_yaml(path) or {}
            rules[path.stem] = Rules(_phrases(r.get("signposts")), _phrases(r.get("phrases")),
                                     _phrases(r.get("threats")), _phrases(r.get("present")))
        if "en" not in rules:
            raise ValueError(f"{directory}: no en.yaml of emergency words")
        return cls(rules)

    def is_emergency(self, text: str) -> bool:
        return self.which(text) is not None

    def _runs(self, words: list[str]) -> set[tuple[str, ...]]:
        """Every run of up to `_longest` words, after questions about a service (signposts,
        in any language, longest first) are taken out."""
        keep = [True] * len(words)
        for n in range(min(self._longest, len(words)), 0, -1):
            for i in range(len(words) - n + 1):
                if all(keep[i:i + n]) and tuple(words[i:i + n]) in self._signposts:
                    keep[i:i + n] = [False] * n
        left = [w for w, k in zip(words, keep) if k]
        return {tuple(left[i:i + n]) for n in range(1, self._longest + 1)
                for i in range(len(left) - n + 1)}

    def which(self, text: str, first: str = "en") -> str | None:
        """The language whose rules found danger in `text`, or None.

        The `first` language (the conversation's) is tried first, then English, then the
        rest, so words every language shares ("999", "help") keep the reply's language.
        """
        words = fold((text or "")[:2000]).split()
        if not words:
            return None
        runs = self._runs(words)
        for lang in sorted(self.rules, key=lambda code: (code != first, code != "en", code)):
            rules = self.rules[lang]
            if not runs.isdisjoint(rules.phrases):
                return lang
            if not runs.isdisjoint(rules.threats) and not runs.isdisjoint(rules.present):
                return lang
        return None
