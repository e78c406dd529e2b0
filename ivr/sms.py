"""The SMS conversation: a message in, a reply out, free of HTTP and Redis.

Safety first: a message that reads like an emergency gets the 999 guidance as the first
line of the reply, whatever else it asks. Then a keyword or sentence finds a service;
MENU lists the categories, a number opens one, MORE continues a long reply, HELP says
how the line works. Anything else gets a friendly hint, never an error.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from functools import lru_cache

from rapidfuzz import fuzz, process

from . import signpost
from .line import Line
from .matching import WHOLE_KINDS, Match
from .safety import Decision
from .segments import fit, is_gsm7, plain, unaccented
from .text import fold, script_of

MAX_BODY = 480        # characters of a message read for a keyword (all of it is read for danger)
# Segments a reply may use before it continues on MORE. Two GSM-7 segments hold 306
# characters; UCS-2 (any non-GSM letter: Polish, Bulgarian, Arabic...) holds 67 a
# segment, so four UCS-2 segments (268) carry about as much text as two plain ones.
PARTS_GSM7 = 2
PARTS_UCS2 = 4
LANGUAGE_MARGIN = 40.0     # nats by which a text's language must win to be believed


@dataclass(frozen=True)
class SmsState:
    lang: str = "en"
    listing: str | None = None     # "menu", "lang", "choice:a,b", or the category id whose services were listed
    more: str = ""                 # the rest of a long reply, for MORE

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict | None) -> "SmsState":
        if not isinstance(data, dict):
            return cls()
        try:
            return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        except TypeError:
            return cls()


def _p(line: Line, lang: str, key: str, **kw) -> str:
    return line.texts[lang].prompt(key, **{**line.numbers, **kw})


def _choices(line: Line, listing: str) -> list[str]:
    """The services of a "choice:a,b,c" listing that are still in the catalogue."""
    return [sid for sid in listing[len("choice:"):].split(",") if sid in line.catalogue.services]


def _listing(line: Line, lang: str, listing: str) -> str:
    texts = line.texts[lang]
    if listing.startswith("choice:"):
        head = _p(line, lang, "sms_choice")
        rows = [signpost.title(texts, line.catalogue.services[sid]) for sid in _choices(line, listing)]
    elif listing == "lang":
        head = _p(line, lang, "sms_languages")
        rows = [line.languages[code].native for code in line.offered]
    elif listing == "menu" or line.catalogue.category(listing) is None:
        head = _p(line, lang, "sms_menu")
        rows = [texts.field(c.id, "title", c.title) for c in line.catalogue.categories]
    else:
        cat = line.catalogue.category(listing)
        head = _p(line, lang, "sms_category", title=texts.field(cat.id, "title", cat.title))
        rows = [signpost.title(texts, s) for s in cat.services]
    return "\n".join([head] + [f"{i} {row}" for i, row in enumerate(rows, start=1)])


SMS, LANGUAGE = WHOLE_KINDS


def _command(line: Line, lang: str, folded: str) -> str | None:
    """A message that is nothing but a command word (MENU, MORE, HELP) in this language."""
    for code in dict.fromkeys((lang, "en")):
        found = line.matchers[code].exactly(folded, SMS)
        if found is not None:
            return found.id
    return None


def _command_anywhere(line: Line, lang: str, folded: str) -> tuple[str | None, str]:
    """A command word of any offered language, and that language ("MENIU", "ਮਦਦ" and
    "dzięki" work as a first text, which has no language yet). The conversation's own
    language and English come first; another language's word counts only when it is not
    a keyword of the conversation's language."""
    command = _command(line, lang, folded)
    if command is not None or lang in line.whole.get(folded, {}):
        return command, lang
    for code in line.offered:
        found = line.matchers[code].exactly(folded, SMS)
        if found is not None:
            return found.id, code
    return None, lang


def assess(line: Line, lang: str, message: str) -> Decision:
    """Is the sender in danger now? Every message is read for it, all of it: a command word
    alone by the word lists, a catalogue keyword alone by the model, anything else by both."""
    folded = fold((message or "")[:200])
    return line.safety.assess(message or "", first=lang, words_only=is_command(line, lang, message),
                              model_only=bool(folded) and folded in line.whole)


@lru_cache(maxsize=4)
def _number_pattern(number: str) -> re.Pattern:
    return re.compile(rf"(?<!\d){re.escape(number)}(?!\d)")


def names_emergency(line: Line, message: str) -> bool:
    """Whether a message names the emergency number ("999 SMS", "can I text 999"). Its
    reply always starts with how 999 works, danger or not: the sender has 999 in mind,
    and that line answers the usual question (texting 999 needs registering first)."""
    return bool(_number_pattern(line.numbers["emergency"]).search(message or ""))


def is_command(line: Line, lang: str, message: str) -> bool:
    """Whether the whole message is one of the line's SMS command words (HELP, MENU...)."""
    folded = fold((message or "")[:60])
    return bool(folded) and _command(line, line.language_of(lang), folded) is not None


def _body(line: Line, state: SmsState, text: str, danger: bool = False) -> tuple[SmsState, str, str]:
    """Everything after the emergency line: (new state, reply text, what was found: a
    service "service:<id>", a listing, a command, or "" for nothing). A message read as
    `danger` keeps its own language and gets only a signpost it names."""
    lang = state.lang
    folded = fold(text)
    command, said_in = _command_anywhere(line, lang, folded) if folded else (None, lang)
    if command is not None and said_in != lang and not danger:
        lang = said_in          # a command word in another language: answer in it
        state = replace(state, lang=lang)
    if command == "lang":
        # "language" is also a keyword (non-English 999): a service keyword wins over LANG.
        found = line.matchers[lang].match(folded, {"service"}, fuzzy=False)
        if found is not None and found.phrase == folded:
            command = None
    if command == "menu":
        return replace(state, listing="menu", more=""), _listing(line, lang, "menu"), "menu"
    if command == "help":
        return replace(state, more=""), _p(line, lang, "sms_help"), "help"
    if command == "hello":
        # "hi", "dzięki", "شكرا": how the line works, in the greeting's language.
        return replace(state, more=""), _p(line, lang, "sms_help"), "hello"
    if command == "lang":
        # Numbered like every list: "3" after LANG is the third language, not a topic.
        return replace(state, listing="lang", more=""), _listing(line, lang, "lang"), "lang"
    if command == "more":
        if state.more:
            return state, state.more, "more"
        return state, _p(line, lang, "sms_no_more"), "more"
    if folded.isdigit():
        if folded == line.numbers["emergency"]:
            return replace(state, more=""), "", ""      # "999" is not a menu number
        if folded == line.numbers["non_emergency"] and not state.listing:
            # "101" as a first text asks about 101: how the line works names it.
            return replace(state, more=""), _p(line, lang, "sms_help"), "help-101"
        return _number(line, state, int(folded))
    named = _language_named(line, lang, folded)
    if named:
        state = replace(state, lang=named, listing=None, more="")
        return state, _p(line, named, "sms_language_set") + "\n" + _p(line, named, "sms_help"), "language"
    found, found_lang = _find(line, lang, text)
    if folded not in line.whole:        # a whole keyword settles its language ("chat live" is Romanian)
        found_lang = _english_kept(line, lang, text, found_lang)
    lang = lang if danger else found_lang
    if danger and found is not None and not found.exact:
        # After the 999 line, a signpost only for what the message names: a guess from
        # loose words ("my husband is beating me" -> Beat Bus) would read as not listening.
        found = None
    if found is None:
        services, topic_lang = _topic(line, state.lang, text)
        topic_lang = _english_kept(line, state.lang, text, topic_lang)
        if services and danger and len(services) > 1 and len(folded.split()) > 1:
            services = []      # nor a numbered choice of guesses at a sentence ("cuțit" alone may have one)
        if services:
            # An everyday word ("knife", "pies"): its service, or a short numbered choice.
            state = replace(state, lang=state.lang if danger else topic_lang, more="")
            if len(services) == 1:
                return state, line.sms(state.lang, services[0]), f"service:{services[0]}"
            listing = "choice:" + ",".join(services)
            return replace(state, listing=listing), _listing(line, state.lang, listing), "choice"
        # Nothing matched: answer at least in the language the message is written in.
        guessed = None if danger else (line.scripts.get(script_of(text)) or _written_in(line, state.lang, text))
        return replace(state, lang=guessed or state.lang, more=""), "", ""
    state = replace(state, lang=lang)
    kind, target = found.target.kind, found.target.id
    if kind == "service":
        svc = line.catalogue.services[target]
        return replace(state, more=""), line.sms(lang, svc.id), f"service:{svc.id}"
    return replace(state, listing=target, more=""), _listing(line, lang, target), f"category:{target}"


def _language_named(line: Line, lang: str, folded: str) -> str | None:
    """The language a message names, when the message is nothing but its name ("POLSKI")."""
    found = line.matchers[lang].exactly(folded, LANGUAGE)
    if found is None and lang != "en":
        found = line.matchers["en"].exactly(folded, LANGUAGE)
    return found.id if found is not None else None


def _find(line: Line, lang: str, text: str):
    """Find what a message asks for, and the language to answer in: a reply comes in the
    language of the message.

    A message that is exactly a keyword or synonym of some language settles both at once
    ("czat" is Polish, not a misspelt English "chat"). Otherwise a keyword found as
    written wins before one found by correcting a typo ("frauda" is Romanian, not a
    misspelt English "fraud"): first in the conversation's own language, then in any;
    and when no keyword is found at all, the best loose reading of any language wins.
    English words in another language's conversation keep that language.
    """
    kinds = {"service", "category"}
    order = line.readers(lang, text)
    folded = fold(text)
    whole = line.whole.get(folded, {})
    for code in order:
        if code in whole:
            return Match(whole[code], 1.0, folded), lang if code == "en" else code
    best, best_code = None, lang
    for typos in (False, True):
        exact = None
        for code in order:
            found = line.matchers[code].match(text, kinds, typos=typos)
            if found is None:
                continue
            if found.exact and code == lang:
                return found, lang
            if found.exact and (exact is None or found.score > exact[0].score):
                exact = (found, code)
            if best is None or found.score > best.score:
                best, best_code = found, code
        if exact is not None:
            best, best_code = exact
            break
    return best, lang if best_code == "en" else best_code


def _english_kept(line: Line, lang: str, text: str, found_lang: str) -> str:
    """English when an English conversation (or a first text) finds its words in another
    language's keywords but is written in English: Polish keywords hold "hate crime", and
    an English speaker is not answered in Polish. (No margin: this only keeps the
    conversation's own English.)"""
    if lang != "en" or found_lang == "en":
        return found_lang
    return "en" if line.safety.language(text) == "en" else found_lang


def _written_in(line: Line, lang: str, text: str) -> str | None:
    """The offered language an English conversation's text of three words or more is
    written in, when the language reader is sure (a shorter text says too little)."""
    if lang != "en":
        return None
    written = line.safety.language(text, margin=LANGUAGE_MARGIN, min_words=3)
    return written if written in line.offered else None


def _topic(line: Line, lang: str, text: str) -> tuple[list[str], str]:
    """The services an everyday word leads to, in the message's language or any other."""
    for code in line.readers(lang, text):
        services = line.matchers[code].topic(text)
        if services:
            return services, lang if code == "en" else code
    return [], lang


def suggestions(line: Line, lang: str, text: str, limit: int = 3) -> list[str]:
    """Two or three services whose names are closest to a message nothing matched."""
    folded = fold(text[:200])
    if len(folded) < 3:
        return []
    names = line.names[lang]
    found = process.extract(folded, names, scorer=fuzz.WRatio, limit=limit * 3, score_cutoff=86)
    out: list[str] = []
    for _, _, index in found:
        sid = line.name_owner[lang][index]
        if sid not in out:
            out.append(sid)
    return out[:limit]


def _number(line: Line, state: SmsState, n: int) -> tuple[SmsState, str, str]:
    lang = state.lang
    listing = state.listing or "menu"
    if listing not in ("menu", "lang") and not listing.startswith("choice:") \
            and line.catalogue.category(listing) is None:
        listing = "menu"        # a category the catalogue no longer has
    if listing == "lang":
        if 1 <= n <= len(line.offered):
            code = line.offered[n - 1]
            state = replace(state, lang=code, listing="menu", more="")
            return state, _p(line, code, "sms_language_set") + "\n" + _p(line, code, "sms_help"), "language"
    elif listing.startswith("choice:"):
        services = _choices(line, listing)
        if 1 <= n <= len(services):
            return replace(state, more=""), line.sms(lang, services[n - 1]), f"service:{services[n - 1]}"
    elif listing == "menu":
        cats = line.catalogue.categories
        if 1 <= n <= len(cats):
            cat = cats[n - 1]
            return replace(state, listing=cat.id, more=""), _listing(line, lang, cat.id), f"category:{cat.id}"
    else:
        services = line.catalogue.category(listing).services
        if 1 <= n <= len(services):
            sid = services[n - 1].id
            return replace(state, more=""), line.sms(lang, sid), f"service:{sid}"
    return state, _p(line, lang, "sms_bad_number") + "\n" + _listing(line, lang, listing), "number"


# The words Twilio itself acts on and confirms on a long code (twilio-notes.md): for any
# other opt-out word ("wypisz", "стоп") the line's own confirmation is the only one sent.
TWILIO_OPT_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke",
                              "optout", "start", "yes", "unstop"})


def opt_word(line: Line, message: str) -> str | None:
    """"stop" or "start" when the whole message is an opt-out or opt-in word, in any language."""
    found = line.opt_words.get(fold((message or "")[:60]))
    return found[0] if found else None


def twilio_confirms(message: str) -> bool:
    return fold((message or "")[:60]) in TWILIO_OPT_WORDS


def opt_language(line: Line, message: str, lang: str) -> str:
    """The language of an opt-out or opt-in word (English when English has it too)."""
    found = line.opt_words.get(fold((message or "")[:60]))
    return found[1] if found else lang


def stopped(line: Line, lang: str) -> str:
    """The line's own confirmation of an opt-out (it ends with how to reach 999)."""
    return _fit(line, SmsState(lang=lang), _p(line, lang, "sms_stopped"))[1]


@dataclass(frozen=True)
class Answer:
    """A reply, and what it found for the line's counters: "service:<id>",
    "category:<id>", a command ("menu", "help"...), "emergency" when danger alone was
    answered, "started", or "" when the message found nothing."""
    state: SmsState
    text: str
    found: str


def reply(state: SmsState, message: str, line: Line, started: bool = False,
          decision: Decision | None = None, first_contact: bool = False) -> tuple[SmsState, str]:
    """Answer one incoming message: (new state, reply text). See `answer`."""
    out = answer(state, message, line, started, decision, first_contact)
    return out.state, out.text


def answer(state: SmsState, message: str, line: Line, started: bool = False,
           decision: Decision | None = None, first_contact: bool = False) -> Answer:
    """Answer one incoming message (`started`: it opted back in to texts). `decision` is
    the safety reading of the message when the caller has made it already;
    `first_contact`: nothing is kept about the sender (no conversation, no language)."""
    if state.lang not in line.offered:
        state = replace(state, lang="en")
    if decision is None:
        decision = assess(line, state.lang, message)
    text = (message or "")[:MAX_BODY]
    emergency = decision.danger or names_emergency(line, message)
    if decision.lang in line.offered and decision.lang != state.lang:
        state = replace(state, lang=decision.lang)   # answer danger in the words it came in
    if started:
        state, body, found = replace(state, more=""), _p(line, state.lang, "sms_started"), "started"
    else:
        # A message about danger is answered in the language the danger was written in.
        state, body, found = _body(line, state, text, danger=decision.danger)
    if found == "help":
        # HELP alone is how a frightened person writes as often as how someone asks what
        # the line does: either way the reply starts with the 999 line.
        emergency = True
    if emergency and not found:
        found = "emergency"
    extra = 1 if emergency else 0       # a longer reply: see `_fit`
    if not body and not emergency:
        body = _p(line, state.lang, "sms_unknown")
        if first_contact and script_of(text) in (None, "LATIN"):
            extra = 0 if state.lang == "en" else 1      # room for the English beside another language
            # Perhaps a language the line does not offer (its language reader took Latvian
            # for Lithuanian, Spanish for Portuguese): say, in English, how to get an
            # interpreter, and that LANG lists the languages.
            body += "\n" + _p(line, "en", "sms_interpreter")
        close = suggestions(line, state.lang, text)
        if close:
            # Name the topics closest to what was asked; a number opens one.
            listing = "choice:" + ",".join(close)
            state = replace(state, listing=listing)
            body += "\n" + _listing(line, state.lang, listing)
    parts = [_p(line, state.lang, "sms_emergency")] if emergency else []
    if body:
        parts.append(body)
    if emergency and not body:
        parts.append(_p(line, state.lang, "sms_menu_hint"))
    return Answer(*_fit(line, state, "\n".join(parts), extra=extra), found)


def danger_only(line: Line, lang: str) -> str:
    """The 999 line alone: for a sender the line would otherwise not answer (over the
    per-minute limit, or opted out), when their message reads as danger."""
    return _fit(line, SmsState(lang=line.language_of(lang)), _p(line, line.language_of(lang), "sms_emergency"))[1]


def for_sms(line: Line, lang: str, text: str) -> str:
    """Text as it is sent: English in plain GSM-7, a language marked `sms_gsm7` (Romanian)
    without its accents, the others as written (UCS-2)."""
    return _as_sent(text, lang == "en", lang != "en" and line.languages[lang].sms_gsm7)


def _as_sent(text: str, english: bool, unaccent: bool) -> str:
    if english:
        return plain(text)
    return unaccented(text) if unaccent else text


def _fit(line: Line, state: SmsState, full: str, extra: int = 0) -> tuple[SmsState, str]:
    """Cut a reply to the segments a text may use (`extra` more when the 999 line leads
    it, so what follows is more than a title, or when English follows another language);
    the rest waits for MORE."""
    lang = state.lang
    now, rest = _cut(full, lang == "en", lang != "en" and line.languages[lang].sms_gsm7,
                     _p(line, lang, "sms_more"), extra)
    return replace(state, more=rest), now


@lru_cache(maxsize=1024)
def _cut(full: str, english: bool, unaccent: bool, more: str, extra: int = 0) -> tuple[str, str]:
    """A reply as sent and cut (now, rest). Replies are made of the catalogue's and the
    prompts' words, never the sender's, so the same few hundred recur: cut once each."""
    full, suffix = _as_sent(full, english, unaccent), _as_sent(more, english, unaccent)
    return fit(full, (PARTS_GSM7 if is_gsm7(full + suffix) else PARTS_UCS2) + extra, suffix)
