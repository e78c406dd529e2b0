"""A service, put into words: the spoken version for a call and the SMS version.

Both are composed from the service's translated text and its structured facts (contacts,
hours, ages) through translated templates, so no translation ever retypes a phone number
or an opening hour.
"""
from __future__ import annotations

import re

from rapidfuzz import fuzz

from .catalogue import Catalogue, ContactUse, Service
from .i18n import Texts
from .text import fold

READOUT_WORDS = 75      # a service read aloud stays under 80 words; the rest is "detail" (key 4)
FIRST_WORDS = 30        # what to do and where to call come within the first 30 words
SAME_FACT = 75          # rapidfuzz token-set similarity at which two sentences say one thing
_SENTENCE = re.compile(r"(?<=[.!?؟।])\s+")


def site(url: str) -> str:
    """`https://www.northants.police.uk/` -> `northants.police.uk`, as people say and type it."""
    host = url.split("://", 1)[-1].strip("/")
    return host[4:] if host.startswith("www.") else host


def spoken_site(texts: Texts, url: str) -> str:
    """`northants.police.uk` read aloud: "northants dot police dot uk", "dot" in the caller's language."""
    return site(url).replace(".", f" {texts.prompt('spoken_dot')} ")


def spoken_number(number: str) -> str:
    """Phone numbers are read digit by digit: "0 3 0 0, 1 2 3, 2 0 4 0"."""
    return ", ".join(" ".join(group) for group in number.split())


def title(texts: Texts, service: Service) -> str:
    return texts.field(service.id, "title", service.title)


def category_title(texts: Texts, catalogue: Catalogue, category_id: str) -> str:
    cat = catalogue.category(category_id)
    return texts.field(cat.id, "title", cat.title)


def contact_label(texts: Texts, use: ContactUse) -> str:
    return texts.field(use.contact.id, "label", use.contact.label)


def _ages(texts: Texts, service: Service, prefix: str) -> str:
    lo, hi = service.min_age, service.max_age
    if lo is not None and hi is not None:
        return texts.prompt(f"{prefix}ages_range", min=lo, max=hi)
    if lo is not None:
        return texts.prompt(f"{prefix}ages_min", min=lo)
    if hi is not None:
        return texts.prompt(f"{prefix}ages_max", max=hi)
    return ""


def _reach(texts: Texts, service: Service) -> list[str]:
    """How to reach the service, a sentence per contact, read as people say them."""
    parts = []
    for use in service.contacts:
        c, label = use.contact, contact_label(texts, use)
        if c.kind == "phone":
            parts.append(texts.prompt("reach_phone", label=label, number=spoken_number(c.number)))
        elif c.kind == "website":
            parts.append(texts.prompt("reach_website", label=label, site=spoken_site(texts, c.url)))
        elif c.kind == "email":
            dot, at = texts.prompt("spoken_dot"), texts.prompt("spoken_at")
            address = c.address.replace("@", f" {at} ").replace(".", f" {dot} ")
            parts.append(texts.prompt("reach_email", label=label, address=address))
        elif c.kind == "in_person":
            parts.append(texts.prompt("reach_in_person", label=label))
        else:
            parts.append(texts.prompt("reach_app", label=label))
        if use.hours:
            parts[-1] += " " + texts.prompt("reach_hours", opens=texts.time(use.hours.opens),
                                            closes=texts.time(use.hours.closes))
    return parts


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text) if s.strip()]


def same_fact(a: str, b: str) -> bool:
    """Whether two sentences say one thing: nearly the same words, and the same numbers
    ("call 999" and "call 18000" are two facts)."""
    a, b = fold(a), fold(b)
    digits = lambda s: "".join(ch for ch in s if ch.isdigit())
    return digits(a) == digits(b) and fuzz.token_set_ratio(a, b) >= SAME_FACT


def said_once(sentences: list[str], already: list[str] = ()) -> list[str]:
    """The sentences, less any that says again what an earlier one (or one `already`
    said) said."""
    kept: list[str] = []
    for sentence in sentences:
        if fold(sentence) and not any(same_fact(sentence, k) for k in [*already, *kept]):
            kept.append(sentence)
    return kept


def _words(parts: list[str]) -> int:
    return sum(len(p.split()) for p in parts)


def spoken_parts(texts: Texts, service: Service) -> tuple[str, str]:
    """What a caller hears, and the detail offered after it (key 4).

    The title, then what to do and where to call within the first 30 words, then what it
    is and who it is for; each fact said once; under 80 words, the rest kept as detail."""
    name = title(texts, service) + "."
    about = _sentences(texts.field(service.id, "spoken", service.spoken))
    ages = _ages(texts, service, "")
    facts = [s for f in service.facts for s in _sentences(texts.field(service.id, "facts", f))]
    reach = _reach(texts, service)
    sentences = said_once(about + ([ages] if ages else []) + facts, already=reach)
    head = [name]
    if sentences and _words([name, sentences[0]]) + 2 <= FIRST_WORDS - 8:
        head.append(sentences.pop(0))
    core, detail = head + reach, []
    for sentence in sentences:
        (core if not detail and _words(core + [sentence]) <= READOUT_WORDS else detail).append(sentence)
    return " ".join(core), " ".join(detail)


def sms(texts: Texts, service: Service) -> str:
    """What a texter reads: "Title: summary. Ages. Contact; contact (hours)"."""
    lines = [f"{title(texts, service)}: {texts.field(service.id, 'summary', service.summary)}"]
    ages = _ages(texts, service, "sms_")
    if ages:
        lines[0] += " " + ages
    reach = []
    for use in service.contacts:
        c, label = use.contact, contact_label(texts, use)
        if c.kind == "phone":
            item = texts.prompt("sms_phone", label=label, number=c.number)
        elif c.kind == "website":
            item = texts.prompt("sms_website", site=site(c.url))
        elif c.kind == "email":
            item = texts.prompt("sms_email", address=c.address)
        else:
            item = texts.prompt("sms_place", label=label)
        if use.hours:
            item += " " + texts.prompt("sms_hours", opens=use.hours.opens, closes=use.hours.closes)
        reach.append(item)
    lines.append("; ".join(reach))
    return "\n".join(lines)
