"""The line's content, built once at start-up: catalogue, languages, texts and indexes.

Everything here is read-only after `build`, so every request in every worker shares it.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from babel import localedata

from . import catalogue as catalogue_mod
from . import signpost
from .catalogue import Catalogue
from .i18n import (Language, Texts, compile_catalogues, load_languages, load_prompts,
                   load_translations, missing_from, source_messages)
from .matching import LanguageMatcher, Target
from .safety import Safety
from .text import fold, script_of, scripts_in

log = logging.getLogger(__name__)

COMMANDS = ("repeat", "back", "more", "emergency", "main", "goodbye", "slower", "text")
SMS_COMMANDS = ("menu", "more", "help", "lang", "hello")   # STOP/START: `opt_words`, checked first


@dataclass
class Line:
    catalogue: Catalogue
    languages: dict[str, Language]      # every language described
    offered: list[str]                  # codes offered to callers, English first
    auto: set[str]                      # offered as automatic (machine) translations
    texts: dict[str, Texts]
    matchers: dict[str, LanguageMatcher]
    safety: Safety                      # is someone in danger now? (words and model)
    numbers: dict[str, str] = field(default_factory=dict)
    opt_words: dict[str, tuple[str, str]] = field(default_factory=dict)   # folded STOP/START word -> ("stop"/"start", its language)
    signposts: dict = field(default_factory=dict)               # (lang, service id) -> (spoken, sms, detail)
    whole: dict = field(default_factory=dict)                   # folded phrase -> {lang: Target}
    scripts: dict = field(default_factory=dict)                 # a script only one language uses -> its code
    writes: dict = field(default_factory=dict)                  # lang -> the script it is written in
    hints: dict = field(default_factory=dict)                   # speech hints per menu, made once
    names: dict = field(default_factory=dict)                   # lang -> folded service titles and keywords
    name_owner: dict = field(default_factory=dict)              # lang -> the service of each name

    def language_of(self, code: str | None) -> str:
        return code if code in self.offered else "en"

    def readers(self, lang: str, text: str) -> list[str]:
        """The languages that may have written `text`, the conversation's first, then
        English. A language whose script has no letter in it never reads it: a Latin "999
        SMS" is not Arabic because the Arabic catalogue names emergencySMS in Latin letters."""
        scripts = scripts_in(text)
        return list(dict.fromkeys([lang, "en"] + [c for c in self.offered if self.writes.get(c) in scripts]))

    def spoken(self, lang: str, service_id: str) -> str:
        return self.signposts[(lang, service_id)][0]

    def detail(self, lang: str, service_id: str) -> str:
        """The rest of a service's readout, offered with key 4 ("" when there is none)."""
        return self.signposts[(lang, service_id)][2]

    def sms(self, lang: str, service_id: str) -> str:
        return self.signposts[(lang, service_id)][1]

    def topic(self, lang: str, text: str) -> list[str]:
        """The services an everyday word leads to ("dog"), in a language, then in English."""
        return self.matchers[lang].topic(text) or (self.matchers["en"].topic(text) if lang != "en" else [])

    def match(self, lang: str, text: str, kinds: set[str]):
        """Match in a language, then in English (residents often use English words)."""
        found = self.matchers[lang].match(text, kinds)
        if found is None and lang != "en":
            found = self.matchers["en"].match(text, kinds - {"command", "sms"})
        return found


def _forms(locales_dir: Path, code: str) -> dict[str, str]:
    path = Path(locales_dir) / code / "forms.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _matcher(cat: Catalogue, texts: Texts, languages, offered, forms: dict[str, str]) -> LanguageMatcher:
    """One language's index: its keywords, synonyms, command words and language names.
    (English words are found through the English matcher, tried next: see `match`.)"""
    common = frozenset(w for code in offered for w in languages[code].stopwords)
    m = LanguageMatcher(forms, texts.language.stopwords, common)
    for svc in cat.services.values():
        m.add_topic(signpost.title(texts, svc), svc.id)
        for word in texts.words(svc.id, "keywords", svc.keywords):
            m.add(word, Target("service", svc.id), 1.0)
        for word in texts.words(svc.id, "synonyms", svc.synonyms):
            m.add(word, Target("service", svc.id), 0.9)
    for c in cat.categories:
        for word in texts.words(c.id, "keywords", c.keywords):
            m.add(word, Target("category", c.id), 0.8)
    for code in offered:
        lang = languages[code]
        for word in {lang.english, lang.native, *lang.words}:
            m.add(word, Target("language", code), 1.0)
    for cmd in COMMANDS:
        for word in texts.prompt(f"words_{cmd}").split(","):
            m.add(word, Target("command", cmd), 1.2)
    for cmd in SMS_COMMANDS:
        for word in texts.prompt(f"sms_words_{cmd}").split(","):
            m.add(word, Target("sms", cmd), 1.2)
    m.freeze()
    return m


def build(config) -> Line:
    """Load, validate and index everything; raise on any inconsistency."""
    cat = catalogue_mod.load(config["CATALOGUE_DIR"])
    for clash in cat.clashes:
        log.warning("catalogue: %s", clash)
    prompts = load_prompts(config["PROMPTS_DIR"])
    locales = Path(config["LOCALES_DIR"])
    languages = load_languages(locales)
    compile_catalogues(locales)
    expected = source_messages(config["CATALOGUE_DIR"], config["PROMPTS_DIR"])
    auto = {c.strip() for c in config.get("AUTO_LANGUAGES", ()) if c.strip()}
    offered, loaded = ["en"], {"en": load_translations(locales, "en")}
    for code in languages:
        if code == "en":
            continue
        # A language is offered only when every string is translated and reviewed (not
        # fuzzy), or when the deployment opts it in as an automatic translation.
        translations = load_translations(locales, code, fuzzy=code in auto)
        missing = missing_from(translations, expected)
        if missing == 0:
            offered.append(code)
            loaded[code] = translations
        else:
            log.info("language %s not offered: %d strings missing or not reviewed", code, missing)
    texts = {code: Texts(languages[code], loaded[code], prompts) for code in offered}
    matchers = {code: _matcher(cat, texts[code], languages, offered, _forms(locales, code))
                for code in offered}
    safety = Safety.load(Path(config["CATALOGUE_DIR"]) / "emergency")
    c = cat.contacts
    numbers = {"emergency": c["emergency"].number, "non_emergency": c["non-emergency"].number,
               "relay": c["text-relay"].number}
    opt_words = {}
    for code in reversed(offered):          # English last: its words win a clash
        for kind in ("stop", "start"):
            for word in texts[code].prompt(f"sms_words_{kind}").split(","):
                if fold(word):
                    opt_words[fold(word)] = (kind, code)
    # Every service in every language, put into words once: requests only look them up,
    # and Babel's locale data (hours, language names) is not needed after start-up.
    signposts = {}
    for code in offered:
        for svc in cat.services.values():
            core, detail = signpost.spoken_parts(texts[code], svc)
            signposts[(code, svc.id)] = (core, signpost.sms(texts[code], svc), detail)
    # A message that is exactly some language's keyword or synonym: one lookup.
    whole: dict[str, dict] = {}
    for code in offered:
        best: dict[str, tuple] = {}
        for phrase, target, weight in matchers[code].whole_phrases({"service", "category"}):
            if phrase not in best or weight > best[phrase][1]:
                best[phrase] = (target, weight)
        for phrase, (target, _) in best.items():
            whole.setdefault(phrase, {})[code] = target
    # A script that only one offered language writes in (Arabic, Gurmukhi, Cyrillic here)
    # tells the language of a message even when none of its words is a keyword.
    by_script: dict[str, list[str]] = {}
    for code in offered:
        by_script.setdefault(script_of(languages[code].native), []).append(code)
    scripts = {s: codes[0] for s, codes in by_script.items() if s and s != "LATIN" and len(codes) == 1}
    writes = {code: script_of(languages[code].native) for code in offered}
    # Service names and keywords, folded, for suggesting topics close to a message that
    # matched nothing.
    names, name_owner = {}, {}
    for code in offered:
        rows = [(fold(w), svc.id) for svc in cat.services.values()
                for w in (signpost.title(texts[code], svc), *texts[code].words(svc.id, "keywords", svc.keywords))]
        names[code], name_owner[code] = [r[0] for r in rows], [r[1] for r in rows]
    line = Line(cat, languages, offered, auto & set(offered), texts, matchers, safety, numbers,
                opt_words, signposts, whole, scripts, writes=writes, names=names, name_owner=name_owner)
    # Babel's locale data (several megabytes a language) and the parsed YAML were needed
    # only while building.
    catalogue_mod.clear_cache()
    for cache in (getattr(localedata, "_cache", {}), getattr(localedata, "_dict_cache", {})):
        cache.clear()
    return line
