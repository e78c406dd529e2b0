"""Is someone in danger now? One question, asked of every text and every spoken answer.

Two readers answer it together, and either is enough for the 999 guidance to come first:

- `words`: hand-written phrases per language (`catalogue/emergency/<lang>.yaml`), which a
  person can read and review;
- `model`: a linear model over hashed character n-grams, trained on the labelled corpus
  in `catalogue/emergency/corpus/` (`ivr-line safety train`), which follows the ways
  people write in a panic that no list foresees: typos, text-speak, paraphrase.

Training (`train`) and its figures (`report`) live here too, but only the CLI imports
them: the webhook loads the word lists and one small model file, nothing heavier.
Errs towards 999: a false alarm costs one line of text; a missed emergency costs far more.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from .model import Model
from .words import WordLists

log = logging.getLogger(__name__)

MODEL_FILE = "model.bin"


@dataclass(frozen=True)
class Decision:
    danger: bool
    lang: str | None = None     # the language the danger was written in, when known
    source: str = ""            # "words" or "model": which reader saw it
    score: float = 0.0          # the model's probability (0 when the words decided first)


SAFE = Decision(False)


class Safety:
    """The word lists and the model, asked the same question by the webhooks, the call
    flow and the SMS conversation."""

    def __init__(self, words: WordLists, model: Model | None):
        self.words = words
        self.model = model

    @classmethod
    def load(cls, directory: Path) -> "Safety":
        directory = Path(directory)
        words = WordLists.load(directory)
        model = None
        if (directory / MODEL_FILE).exists():
            model = Model.load(directory / MODEL_FILE)
        else:
            log.error("no danger model in %s: only the word lists will recognise danger "
                      "(run `ivr-line safety train`)", directory)
        return cls(words, model)

    def assess(self, text: str, first: str = "en", words_only: bool = False,
               model_only: bool = False) -> Decision:
        """Read all of `text` for danger now; `first` is the conversation's language.

        `words_only`: a message that is exactly a command of the line ("HELP", "MENU") is
        read by the word lists alone (the help text gives the 999 guidance anyway).
        `model_only`: a message that is exactly one of the catalogue's keywords ("someone
        followed me" asks for the stalking signpost) is read by the model alone, which
        learned those keywords."""
        text = text or ""
        lang = None if model_only else self.words.which(text, first=first)
        if lang is not None:
            return Decision(True, lang, "words", 0.0)
        if self.model is None or words_only:
            return SAFE
        danger, lang, score = self.model.decide(self.words.words(text))
        return Decision(True, lang, "model", score) if danger else Decision(False, None, "", score)

    def language(self, text: str, margin: float = 0.0, min_words: int = 1) -> str | None:
        """The corpus language `text` is written in, by the model's language reader; None
        without a model, for fewer than `min_words` words, or when no language wins by
        `margin` nats (see `Model.language`)."""
        words = self.words.words((text or "")[:200])
        if self.model is None or len(words) < min_words:
            return None
        return self.model.language(words, margin=margin)

    def is_emergency(self, text: str, first: str = "en") -> bool:
        return self.assess(text, first).danger

__all__ = ["Decision", "Safety", "Model", "WordLists", "SAFE", "MODEL_FILE"]
