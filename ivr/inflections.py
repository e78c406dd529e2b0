"""Inflected forms for keyword matching, made offline from simplemma's dictionaries.

"oszustwa" should find the Polish keyword "oszustwo", and "spiked" the English "spike".
A lemmatizer's dictionaries take hundreds of megabytes and seconds to load, far too much
for a webhook worker, so `ivr-line forms` runs simplemma once, keeps only the forms whose
base form is a word the catalogue uses, and writes them to `locales/<lang>/forms.json`:
a few thousand entries the matcher loads at start-up. Rerun it after changing keywords.
"""
from __future__ import annotations

import json
from pathlib import Path

from .text import fold


def vocabulary(texts, catalogue) -> set[str]:
    """Every word (as written, lower-case) in one language's keywords and synonyms."""
    words = set()
    for svc in catalogue.services.values():
        for phrase in texts.words(svc.id, "keywords", svc.keywords) + texts.words(svc.id, "synonyms", svc.synonyms):
            words.update(phrase.split())
    for cat in catalogue.categories:
        for phrase in texts.words(cat.id, "keywords", cat.keywords):
            words.update(phrase.split())
    return {w for w in words if len(w) >= 3}


def forms_table(lang: str, words: set[str]) -> dict[str, str]:
    """folded inflected form -> folded base form, for the base forms of `words`."""
    import simplemma
    from simplemma.strategies.dictionaries import DefaultDictionaryFactory

    base_of = {w: simplemma.lemmatize(w, lang=lang) for w in words}
    wanted = {fold(b) for b in base_of.values()}
    table = {}
    for form, base in DefaultDictionaryFactory().get_dictionary(lang).items():
        base = base.decode() if isinstance(base, bytes) else base
        folded_base = fold(base)
        if folded_base in wanted:
            folded_form = fold(form)
            if folded_form and folded_form != folded_base and " " not in folded_form:
                table.setdefault(folded_form, folded_base)
    for word, base in base_of.items():
        if fold(word) != fold(base):
            table[fold(word)] = fold(base)
    # A form that is itself a keyword word must stay as it is: never fold one keyword into another.
    keep = {fold(w) for w in words}
    return {f: b for f, b in sorted(table.items()) if f not in keep or fold(simplemma.lemmatize(f, lang=lang)) == b}


def write(locales_dir: Path, lang: str, table: dict[str, str]) -> Path:
    path = Path(locales_dir) / lang / "forms.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(table, ensure_ascii=False, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    return path


def supported(lang: str) -> bool:
    from simplemma.strategies.dictionaries.dictionary_factory import SUPPORTED_LANGUAGES
    return lang in SUPPORTED_LANGUAGES
