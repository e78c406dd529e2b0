"""Every caller in their own language: calls, speech, texts, emergencies, memory, catalogues."""
from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from babel.messages.pofile import read_po, write_po

from ivr import create_app, signpost
from ivr.i18n import load_languages, load_prompts, source_messages
from ivr.simulator import Phone
from ivr.simulator import text as send_text

from .conftest import TOKEN, fresh_number, node
from .test_voice import keys_to

ROOT = Path(__file__).resolve().parent.parent
LANGS = [code for code in load_languages(ROOT / "locales") if code != "en"]


@pytest.fixture(scope="module")
def offered(line):
    return [c for c in line.offered if c != "en"]


def test_the_languages_of_the_county_are_all_offered(line):
    assert set(line.offered) >= {"en", "pl", "ro", "lt", "pt", "bg", "ar", "pa"}


def call_in(transport, line, code, caller=None):
    phone = Phone(transport, caller=caller or fresh_number())
    first = phone.dial()
    assert "999" in first.said[0].text and first.said[0].language == "en-GB"
    assert node(first) == "lang"
    turn = _choose(phone, first, line, code)
    return phone, first, turn


def _choose(phone, turn, line, code):
    """Find the language in the menu (paging with 8 if needed) and press its key."""
    lang = line.languages[code]
    for _ in range(3):
        keys = [re.findall(r"\d", h.text)[-1] for h in turn.said
                if h.language == lang.say_language and h.voice == lang.voice and re.findall(r"\d", h.text)]
        if keys and keys[-1] != "8":
            return phone.press(keys[-1])
        turn = phone.press("8")      # named on this page with 8, or not named yet: next page
    raise AssertionError(f"{code} is not offered on the language menu")


def english_sentences(line):
    """English prompts long enough that finding one means English has leaked."""
    en = line.texts["en"]
    out = []
    for key in load_prompts(ROOT / "prompts"):
        text = en.prompt(key, **{k: "" for k in ("key", "title", "min", "max", "label", "number", "site",
                                                 "address", "opens", "closes", *line.numbers)})
        head = re.split(r"[.:;{]", text)[0].strip()
        if len(head.split()) >= 4:
            out.append(head)
    return out


@pytest.mark.parametrize("code", LANGS)
def test_the_language_menu_offers_each_language_in_its_own_words_and_voice(transport, line, code):
    phone = Phone(transport, caller=fresh_number())
    turn = phone.dial()
    voices = {(h.voice, h.language) for h in turn.said[1:]}
    lang = line.languages[code]
    page = turn
    while (lang.voice, lang.say_language) not in voices:
        page = phone.press("8")
        voices |= {(h.voice, h.language) for h in page.said}
        assert len(voices) < 20
    for p in (turn, page):
        says = ["".join(s.itertext()) for s in ET.fromstring(p.xml).find("Gather").findall("Say")]
        choices = [t for t in says if re.findall(r"\d", t) and re.findall(r"\d", t)[-1] != "8"]
        assert len(choices) <= 5, "at most five languages a prompt; the rest are one key away"
    # Languages on the next page are named on the first, each in its own words, with key 8.
    first_page_voices = {h.voice for h in turn.said}
    assert all(line.languages[c].voice in first_page_voices for c in line.offered)


@pytest.mark.parametrize("code", LANGS)
def test_after_choosing_the_emergency_guidance_comes_again_with_how_non_english_999_works(transport, line, code):
    _, _, turn = call_in(transport, line, code)
    lang = line.languages[code]
    texts = [h.text for h in turn.said]
    assert all(h.voice == lang.voice for h in turn.said)
    assert any("999" in t for t in texts[:3])
    interpreter = next(t for t in texts if "help" in t.lower())
    assert "999" in interpreter


@pytest.mark.parametrize("code", LANGS)
def test_every_service_by_keys_in_each_language_hearing_only_that_language(transport, line, code):
    lang = line.languages[code]
    leaks = english_sentences(line)
    texts = line.texts[code]
    for category in line.catalogue.categories:
        for service in category.services:
            phone, _, turn = call_in(transport, line, code)
            heard = list(turn.said)
            for key in keys_to(line, category.id, service.id):
                turn = phone.press(key)
                heard += turn.said
            assert turn.said[0].text.startswith(signpost.title(texts, service))
            for h in heard:
                assert h.voice == lang.voice and h.language == lang.say_language, (code, h)
                for sentence in leaks:
                    assert sentence not in h.text, f"English leaked into {code}: {sentence!r}"


@pytest.mark.parametrize("code", LANGS)
def test_a_service_by_speech_in_each_language(transport, line, code):
    texts = line.texts[code]
    service = line.catalogue.services["action-fraud"]
    phone, _, menu = call_in(transport, line, code)
    assert menu.gather["language"] == line.languages[code].speech
    assert texts.words(service.id, "keywords", service.keywords)[0] in menu.gather["hints"]
    turn = phone.say(texts.words(service.id, "keywords", service.keywords)[0])
    assert turn.said[0].text.startswith(signpost.title(texts, service))


@pytest.mark.parametrize("code", LANGS)
def test_saying_the_language_name_chooses_it(transport, line, code):
    lang = line.languages[code]
    for name in (lang.english, lang.native):
        phone = Phone(transport, caller=fresh_number())
        phone.dial()
        turn = phone.say(name)
        assert turn.said[0].voice == lang.voice


def keyword_table():
    from ivr import config
    from ivr.line import build
    line = build(config.from_environment())
    rows = []
    for code in LANGS:
        if code in line.texts:
            for svc in line.catalogue.services.values():
                for word in line.texts[code].words(svc.id, "keywords", svc.keywords)[:2]:
                    rows.append((code, svc.id, word))
    return rows


def sent(line, code, text: str) -> str:
    """A text as the line sends it in that language (Romanian without its accents)."""
    from ivr.sms import for_sms
    return for_sms(line, code, text)


def answers_with(line, code, keyword, reply, title) -> bool:
    """A keyword texted alone asks for its signpost: the reply starts with it (after how
    999 works, when the keyword names 999, "aplikacja 999 bsl", or reads as danger now,
    "dingo vaikas": a child has gone missing)."""
    from ivr import sms
    if "999" in keyword.split() or sms.assess(line, code, keyword).danger:
        guidance = sent(line, code, line.texts[code].prompt("sms_emergency", **line.numbers))
        if not reply.startswith(guidance + "\n"):
            return False
        reply = reply[len(guidance) + 1:]
    return reply.startswith(sent(line, code, title))


@pytest.mark.parametrize("code, service_id, keyword", keyword_table())
def test_every_service_answers_two_of_its_keywords_by_sms_in_each_language(transport, line, code, service_id, keyword):
    number = fresh_number()
    send_text(transport, line.languages[code].native, sender=number)
    reply = send_text(transport, keyword, sender=number)
    title = signpost.title(line.texts[code], line.catalogue.services[service_id])
    assert answers_with(line, code, keyword, reply, title), (keyword, reply[:80])


@pytest.mark.parametrize("code", LANGS)
def test_hardly_any_keyword_texted_alone_is_read_as_danger(line, code):
    """Keywords ask for signposts: the few that read as danger now lead with 999 (see
    `answers_with`), and they must stay few."""
    from ivr import sms
    texts = line.texts[code]
    words = [w for svc in line.catalogue.services.values()
             for w in texts.words(svc.id, "keywords", svc.keywords) + texts.words(svc.id, "synonyms", svc.synonyms)
             if "999" not in w.split()]
    danger = [w for w in words if sms.assess(line, code, w).danger]
    assert len(danger) <= len(words) // 100, danger


@pytest.mark.parametrize("code", LANGS)
def test_a_first_text_in_a_language_is_answered_in_it(transport, line, code):
    """A new texter is answered in the language of the message, whatever it is."""
    from ivr.text import fold
    texts = line.texts[code]
    others = [line.matchers[c] for c in line.offered if c != code]
    tried = 0
    for svc in line.catalogue.services.values():
        for word in texts.words(svc.id, "keywords", svc.keywords)[:2]:
            if any((m := o.match(word, fuzzy=False)) and m.phrase == fold(word) for o in others):
                continue          # the same word in another language ("bikesafe", "site"): either is right
            tried += 1
            reply = send_text(transport, word, sender=fresh_number())
            assert answers_with(line, code, word, reply, signpost.title(texts, svc)), (word, reply[:60])
    assert tried >= len(line.catalogue.services)


def emergency_rows():
    rows = []
    for code in LANGS:
        path = ROOT / "catalogue" / "emergency" / f"{code}.yaml"
        phrases = yaml.safe_load(path.read_text(encoding="utf-8"))["phrases"] if path.exists() else []
        rows += [(code, str(p)) for p in phrases[:25] if str(p) not in ("999", "112")]
    return rows


@pytest.mark.parametrize("code", LANGS)
def test_each_language_has_at_least_ten_emergency_phrasings(code):
    path = ROOT / "catalogue" / "emergency" / f"{code}.yaml"
    assert len(yaml.safe_load(path.read_text(encoding="utf-8"))["phrases"]) >= 10


@pytest.mark.parametrize("code, phrase", emergency_rows())
def test_emergencies_in_each_language_get_999_first_in_that_language(transport, line, code, phrase):
    number = fresh_number()
    send_text(transport, line.languages[code].native, sender=number)
    reply = send_text(transport, phrase, sender=number)
    first_line = line.texts[code].prompt("sms_emergency", **line.numbers).splitlines()[0]
    assert reply.startswith(sent(line, code, first_line)[:40]), (phrase, reply[:80])
    assert "999" in reply.splitlines()[0]


def test_a_language_name_switches_texts_and_is_remembered_for_calls(transport, line):
    number = fresh_number()
    reply = send_text(transport, "POLSKI", sender=number)
    assert reply.startswith(line.texts["pl"].prompt("sms_language_set"))
    menu = send_text(transport, "MENU", sender=number)
    assert line.texts["pl"].field("reporting", "title", "Reporting and contacting the police") in menu
    phone = Phone(transport, caller=number)
    first = phone.dial()
    assert first.said[1].voice == line.languages["pl"].voice, "the remembered language is offered first"


def test_a_language_chosen_on_a_call_is_remembered_for_the_next_call_and_texts(transport, line):
    number = fresh_number()
    call_in(transport, line, "ro", caller=number)
    again = Phone(transport, caller=number).dial()
    assert again.said[1].voice == line.languages["ro"].voice
    assert send_text(transport, "MENU", sender=number).startswith(sent(line, "ro", line.texts["ro"].prompt("sms_menu")))


def test_lang_lists_the_languages_each_in_its_own_words(texter, line):
    reply = texter("LANG")
    for code in line.offered:
        assert line.languages[code].native in reply


@pytest.mark.parametrize("word, code", [("POLSKI", "pl"), ("ROMÂNĂ", "ro"), ("LIETUVIŲ", "lt"),
                                        ("PORTUGUÊS", "pt"), ("БЪЛГАРСКИ", "bg"), ("العربية", "ar"),
                                        ("ਪੰਜਾਬੀ", "pa"), ("romana", "ro"), ("lietuviu", "lt")])
def test_a_language_own_name_switches_to_it(transport, line, word, code):
    reply = send_text(transport, word, sender=fresh_number())
    assert reply.startswith(sent(line, code, line.texts[code].prompt("sms_language_set")))


def test_a_dialled_number_can_belong_to_one_language(data_dir):
    app = create_app({"TWILIO_AUTH_TOKEN": TOKEN, "DATA_DIR": data_dir,
                      "NUMBER_LANGUAGES": {"+441604000099": "bg"}})
    from ivr.simulator import Transport
    phone = Phone(Transport(TOKEN, app=app), caller=fresh_number(), line_number="+441604000099")
    turn = phone.dial()
    assert turn.said[0].language == "en-GB" and "999" in turn.said[0].text
    assert turn.said[1].voice == app.extensions["ivr.line"].languages["bg"].voice
    assert node(turn) == "main"


def test_pybabel_extract_reproduces_the_template(tmp_path):
    out = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
                    "-o", str(out), "--omit-header", "--sort-by-file", "--no-wrap", "."],
                   cwd=ROOT, check=True, capture_output=True)
    with out.open("rb") as fresh, (ROOT / "locales" / "messages.pot").open("rb") as committed:
        new = {(m.context, m.id) for m in read_po(fresh) if m.id}
        old = {(m.context, m.id) for m in read_po(committed) if m.id}
    assert new == old, f"run pybabel extract: added {new - old}, removed {old - new}"
    assert new == set(source_messages(ROOT / "catalogue", ROOT / "prompts"))


def copy_locales(tmp_path):
    target = tmp_path / "locales"
    shutil.copytree(ROOT / "locales", target, ignore=shutil.ignore_patterns("*.mo"))
    return target


def edit_po(locales, code, edit):
    path = locales / code / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=code)
    edit(catalog)
    with path.open("wb") as fh:
        write_po(fh, catalog, width=0)


def app_with(tmp_path, locales, **extra):
    return create_app({"TWILIO_AUTH_TOKEN": TOKEN, "DATA_DIR": tmp_path / "data",
                       "LOCALES_DIR": locales, **extra})


def test_compiled_catalogues_cannot_go_stale(tmp_path):
    locales = copy_locales(tmp_path)
    app_with(tmp_path, locales)                                  # compiles every .mo
    edit_po(locales, "pl", lambda c: setattr(c.get("Main menu.", context="prompt:main_menu"), "string", "MENU GŁÓWNE."))
    line = app_with(tmp_path, locales).extensions["ivr.line"]
    assert line.texts["pl"].prompt("main_menu") == "MENU GŁÓWNE."


def test_a_language_with_a_missing_or_fuzzy_string_is_not_offered(tmp_path):
    locales = copy_locales(tmp_path)
    edit_po(locales, "pl", lambda c: c.delete("Main menu.", context="prompt:main_menu"))
    edit_po(locales, "ro", lambda c: c.get("Main menu.", context="prompt:main_menu").flags.add("fuzzy"))
    line = app_with(tmp_path, locales).extensions["ivr.line"]
    assert "pl" not in line.offered and "ro" not in line.offered and "lt" in line.offered


def test_an_opted_in_automatic_language_is_offered_and_says_so(tmp_path):
    locales = copy_locales(tmp_path)
    edit_po(locales, "ro", lambda c: c.get("Main menu.", context="prompt:main_menu").flags.add("fuzzy"))
    app = app_with(tmp_path, locales, AUTO_LANGUAGES=["ro"])
    line = app.extensions["ivr.line"]
    assert "ro" in line.offered and "ro" in line.auto
    from ivr.simulator import Transport
    phone = Phone(Transport(TOKEN, app=app), caller=fresh_number())
    turn = _choose(phone, phone.dial(), line, "ro")
    said = " ".join(h.text for h in turn.said)
    assert line.texts["ro"].prompt("auto_translated") in said


@pytest.mark.parametrize("message, code", [("دمية كبيرة", "ar"), ("ਕੁਝ ਹੋਰ", "pa"), ("нещо друго", "bg")])
def test_an_unknown_text_in_a_script_only_one_language_uses_is_answered_in_it(transport, line, message, code):
    reply = send_text(transport, message, sender=fresh_number())
    assert reply == sent(line, code, line.texts[code].prompt("sms_unknown", **line.numbers))


# Everyday words people text rather than a service's name ("knife", not "knife amnesty bins").
EVERYDAY = [("en", w) for w in ("knife", "dog", "car", "bike", "drink", "money", "phone", "horse", "child",
                                "partner")] + [
    ("pl", "nóż"), ("ro", "cuțit"), ("lt", "peilis"), ("pt", "faca"), ("bg", "нож"), ("ar", "سكين"), ("pa", "ਚਾਕੂ")]


@pytest.mark.parametrize("code, word", EVERYDAY)
def test_an_everyday_word_leads_somewhere_in_its_language(transport, line, code, word):
    number = fresh_number()
    send_text(transport, line.languages[code].native, sender=number)
    reply = send_text(transport, word, sender=number)
    texts = line.texts[code]
    assert not reply.startswith(sent(line, code, texts.prompt("sms_unknown", **line.numbers))[:25]), (word, reply[:80])
    titles = [sent(line, code, signpost.title(texts, s)) for s in line.catalogue.services.values()]
    assert any(t in reply for t in titles), (word, reply[:120])


# --- what a review of every language corrected -------------------------------------------

@pytest.mark.parametrize("code, service_id, field, wrong", [
    ("ro", "nuisance-abandoned-animals", "title", "agresiv"),     # nuisance, not aggressive
    ("pt", "nuisance-abandoned-animals", "title", "perigos"),     # nuisance, not dangerous
    ("lt", "operation-kalon", "title", "apnuodijim"),             # spiking, not poisoning
    ("lt", "operation-kalon", "summary", "apnuodijim"),
])
def test_meanings_a_review_corrected_stay_corrected(line, code, service_id, field, wrong):
    svc = line.catalogue.services[service_id]
    assert wrong not in line.texts[code].field(service_id, field, getattr(svc, field)).lower()


def test_the_makesafe_summary_names_a_scheme_not_a_number_in_every_language(line):
    svc = line.catalogue.services["operation-makesafe"]
    for code in line.offered:
        summary = line.texts[code].field(svc.id, "summary", svc.summary)
        assert "Makesafe" in summary, code


def test_romanian_is_spoken_with_its_diacritics_and_texted_in_gsm7(transport, line):
    from ivr.segments import is_gsm7
    spoken = " ".join(line.spoken("ro", s) for s in line.catalogue.services)
    assert set("ășțâî") <= set(spoken.lower()), "the speech engine needs ă, ș, ț, â, î"
    assert "ş" not in spoken and "ţ" not in spoken, "comma-below letters, not cedillas"
    number = fresh_number()
    send_text(transport, "ROMÂNĂ", sender=number)
    for body in ("MENU", "1", "1", "cuțit"):
        assert is_gsm7(send_text(transport, body, sender=number)), body


@pytest.mark.parametrize("typed, written", [
    ("أَنا في خَطَر", "انا في خطر"), ("إسعاف", "اسعاف"), ("مساعدة", "مساعده"), ("علىٰ", "علي"),
    ("٩٩٩", "999"), ("ਮਦਦ ੯੯੯", "ਮਦਦ 999"), ("şoferul ţipă", "șoferul țipă"), ("siguranta", "siguranța"),
])
def test_text_is_folded_the_way_people_type_it_per_script(typed, written):
    from ivr.text import fold
    assert fold(typed) == fold(written)
