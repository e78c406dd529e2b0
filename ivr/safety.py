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


def _phrases(rows) -> tuple[str, ...]:
    return tuple(sorted({fold(str(r)) for r in rows or () if fold(str(r))}, key=len, reverse=True))


def _contains(padded: str, phrase: str) -> bool:
    return f" {phrase} " in padded


@dataclass(frozen=True)
class Rules:
    signposts: tuple[str, ...]
    phrases: tuple[str, ...]
    threats: tuple[str, ...]
    present: tuple[str, ...]


class Detector:
    """Emergency phrases for every language, checked all at once.

    All languages are checked for every message: someone writing in Polish to an English
    session is still in danger, and "999" is the same everywhere.
    """

    def __init__(self, rules: dict[str, Rules]):
        self.rules = rules

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

    def which(self, text: str, first: str = "en") -> str | None:
        """The language whose rules found danger in `text`, or None.

        The `first` language (the conversation's) is tried first, then English, then the
        rest, so words every language shares ("999", "help") keep the reply's language.
        """
        folded = fold(text or "")[:2000]
        if not folded:
            return None
        order = sorted(self.rules, key=lambda code: (code != first, code != "en", code))
        # Questions about a service, in any language, are taken out before looking for danger.
        padded = f" {folded} "
        for rules in self.rules.values():
            for phrase in rules.signposts:
                padded = padded.replace(f" {phrase} ", "  ")
        padded = f" {' '.join(padded.split())} "
        for lang in order:
            rules = self.rules[lang]
            if any(_contains(padded, p) for p in rules.phrases):
                return lang
            if any(_contains(padded, t) for t in rules.threats) and \
                    any(_contains(padded, p) for p in rules.present):
                return lang
        return None
