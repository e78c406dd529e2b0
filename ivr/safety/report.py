"""How well danger is recognised, per language (`ivr-line safety report`).

Two sets of figures for the detector as the line runs it (word lists or model):

- k-fold: the training corpus cut into k folds; each fold is judged by a model trained
  (threshold included) on the other folds only;
- test: the test split, written apart from the training texts, judged by the shipped model.

Recall is the share of danger texts given the 999 line; false alarms the share of safe
texts given it. The misses are listed, so a reviewer can see what is still not caught.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import MODEL_FILE, Safety
from .corpus import Example, fold_of, read
from .model import Model
from .words import WordLists

TARGET_RECALL, TARGET_FALSE_ALARMS = 0.98, 0.08


@dataclass
class Tally:
    danger: int = 0
    caught: int = 0
    safe: int = 0
    alarms: int = 0
    words_caught: int = 0
    model_caught: int = 0
    misses: list = field(default_factory=list)
    false_alarms: list = field(default_factory=list)

    def add(self, ex: Example, by_words: bool, by_model: bool) -> None:
        said = by_words or by_model
        if ex.danger:
            self.danger += 1
            self.caught += said
            self.words_caught += by_words
            self.model_caught += by_model
            if not said:
                self.misses.append(ex.text)
        else:
            self.safe += 1
            self.alarms += said
            if said:
                self.false_alarms.append(ex.text)

    @property
    def recall(self) -> float:
        return self.caught / self.danger if self.danger else 0.0

    @property
    def false_alarm_rate(self) -> float:
        return self.alarms / self.safe if self.safe else 0.0

    def meets(self) -> bool:
        return self.recall >= TARGET_RECALL and self.false_alarm_rate <= TARGET_FALSE_ALARMS


def judge(safety: Safety, examples: list[Example], tallies: dict[str, Tally]) -> None:
    for ex in examples:
        # The line's own keywords, texted alone, are read by the model alone (`sms.assess`).
        by_words = ex.topic != "catalogue" and safety.words.which(ex.text) is not None
        by_model = safety.model is not None and safety.model.decide(safety.words.words(ex.text))[0]
        tallies.setdefault(ex.lang, Tally()).add(ex, by_words, by_model)


def kfold(emergency_dir: Path, k: int = 5) -> dict[str, Tally]:
    """Written texts judged by models that did not learn them (the line's own catalogue
    words are always learned, and not judged here: see `catalogue_words`)."""
    from .train import fit
    examples = read(emergency_dir, "train")
    own = [ex for ex in examples if ex.topic == "catalogue"]
    written = [ex for ex in examples if ex.topic != "catalogue"]
    lists = WordLists.load(emergency_dir)
    tallies: dict[str, Tally] = {}
    for i in range(k):
        model = fit([ex for ex in written if fold_of(ex, k) != i] + own, lists)
        judge(Safety(lists, model), [ex for ex in written if fold_of(ex, k) == i], tallies)
    return tallies


def catalogue_words(emergency_dir: Path) -> dict[str, Tally]:
    """The line's own titles and keywords that the shipped detector calls danger (learned
    as safe, so not a held-out figure: a check that no signpost word raises the alarm)."""
    lists = WordLists.load(emergency_dir)
    safety = Safety(lists, Model.load(Path(emergency_dir) / MODEL_FILE))
    tallies: dict[str, Tally] = {}
    judge(safety, [ex for ex in read(emergency_dir, "train") if ex.topic == "catalogue"], tallies)
    return tallies


def test_split(emergency_dir: Path) -> dict[str, Tally]:
    lists = WordLists.load(emergency_dir)
    safety = Safety(lists, Model.load(Path(emergency_dir) / MODEL_FILE))
    tallies: dict[str, Tally] = {}
    judge(safety, read(emergency_dir, "test"), tallies)
    return tallies


def table(title: str, tallies: dict[str, Tally]) -> list[str]:
    rows = [f"## {title}", "",
            "| language | danger | recall | by words | by model | safe | false alarms | target |",
            "|---|---|---|---|---|---|---|---|"]
    for lang in sorted(tallies):
        t = tallies[lang]
        rows.append(f"| {lang} | {t.danger} | {t.recall:.1%} | {t.words_caught / max(1, t.danger):.1%} "
                    f"| {t.model_caught / max(1, t.danger):.1%} | {t.safe} | {t.false_alarm_rate:.1%} "
                    f"| {'met' if t.meets() else 'MISSED'} |")
    return rows + [""]


def listing(title: str, tallies: dict[str, Tally], limit: int = 30) -> list[str]:
    rows = [f"### {title}", ""]
    for lang in sorted(tallies):
        t = tallies[lang]
        for kind, texts in (("missed", t.misses), ("false alarm", t.false_alarms)):
            for text in texts[:limit]:
                rows.append(f"- {lang} {kind}: {text}")
            if len(texts) > limit:
                rows.append(f"- {lang} {kind}: ... and {len(texts) - limit} more")
    return rows + [""]
