"""A caller's time: barge-in after the opening guidance, one guidance per language, short
prompts, returning callers straight to their menu, and services read in under 80 words."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from ivr import signpost
from ivr.simulator import Phone

from .conftest import fresh_number, node
from .test_languages import _choose

MAX_TO_FIRST_OPTION, MAX_UNINTERRUPTIBLE, MAX_PROMPT = 30, 8, 70


def words(text: str) -> int:
    return len(text.split())


def says(xml: str) -> tuple[list[str], list[str]]:
    """(texts said outside any Gather, texts said inside the Gather) of one turn."""
    root = ET.fromstring(xml)
    outside = ["".join(s.itertext()) for s in root.findall("Say")]
    gather = root.find("Gather")
    inside = ["".join(s.itertext()) for s in gather.findall("Say")] if gather is not None else []
    return outside, inside


def guidance(line, code) -> set[str]:
    texts = line.texts[code]
    return {re.sub(r"\s+", " ", texts.prompt(k, **line.numbers)) for k in ("emergency", "emergency_interpreter")}


def measure(transport, line, code) -> dict:
    """For one language: words from choosing it to the main menu's first option (the
    guidance in a newly chosen language aside), words that cannot be interrupted, and the
    longest prompt on the way (language pages, main menu pages, each category)."""
    phone = Phone(transport, caller=fresh_number())
    first = phone.dial()
    turn = _choose(phone, first, line, code) if node(first) == "lang" else first
    assert node(turn) == "main"
    outside, inside = says(turn.xml)
    if turn is first:        # one language only: the opening guidance is not counted
        outside = outside[1:]
    texts = line.texts[code]
    cat = line.catalogue.categories[0]
    option = texts.prompt("menu_option", title=texts.field(cat.id, "title", cat.title), key=1)
    spoken = [s for s in outside + inside if re.sub(r"\s+", " ", s) not in guidance(line, code)]
    heard = " ".join(spoken)
    at = heard.index(option.split(",")[0])
    prompts = [s for t in (first, turn) for s in sum(says(t.xml), [])]
    prompts.append(" ".join(says(phone.press("8").xml)[1]))            # main menu, page 2
    for i in range(1, 6):
        phone.press("0") if i > 1 else None
        prompts += says(phone.press(str(i)).xml)[1]
    return {"to_first_option": words(heard[:at]), "uninterruptible": sum(words(s) for s in outside),
            "longest_prompt": max(words(s) for s in prompts)}


def test_the_time_to_the_first_option_in_every_language(transport, line):
    table = {code: measure(transport, line, code) for code in line.offered}
    print("\nlanguage  words to first option  uninterruptible  longest prompt")
    for code, m in table.items():
        print(f"{code:<9} {m['to_first_option']:>21} {m['uninterruptible']:>16} {m['longest_prompt']:>15}")
    for code, m in table.items():
        assert m["to_first_option"] <= MAX_TO_FIRST_OPTION, (code, m)
        assert m["uninterruptible"] <= MAX_UNINTERRUPTIBLE, (code, m)
        assert m["longest_prompt"] <= MAX_PROMPT, (code, m)


def test_only_the_opening_guidance_is_said_before_a_key_can_be_pressed(transport, line):
    phone = Phone(transport, caller=fresh_number())
    outside, _ = says(phone.dial().xml)
    assert len(outside) == 1 and "999" in outside[0]
    for keys in (["1"], ["1", "1"], ["1", "1", "1"], ["1", "1", "1", "2"], ["1", "9"], ["1", "*"], ["1", "5"]):
        phone = Phone(transport, caller=fresh_number())
        phone.dial()
        for key in keys:
            turn = phone.press(key)
        outside, inside = says(turn.xml)
        assert outside == [] and inside, (keys, outside)


def test_english_callers_hear_the_guidance_once_others_once_in_their_language(transport, line):
    if len(line.offered) < 2:
        pytest.skip("one language: no choice to make")
    for code in line.offered:
        phone = Phone(transport, caller=fresh_number())
        turn = _choose(phone, phone.dial(), line, code)
        said = " ".join(sum(says(turn.xml), []))
        emergency = re.sub(r"\s+", " ", line.texts[code].prompt("emergency", **line.numbers))
        assert said.count(emergency) == (0 if code == "en" else 1), code


def test_a_second_page_of_languages_opens_with_the_languages_in_their_own_voices(transport, line):
    if len(line.offered) <= 5:
        pytest.skip("one page of languages")
    phone = Phone(transport, caller=fresh_number())
    phone.dial()
    turn = phone.press("8")
    gather = ET.fromstring(turn.xml).find("Gather")
    first = gather.find("Say")
    voices = {line.languages[c].voice for c in line.offered[5:]}
    assert first.get("voice") in voices


@pytest.mark.parametrize("code", ["pl", "ar", "en"])
def test_a_returning_caller_hears_their_menu_at_once_and_how_to_change_language(transport, line, code):
    if code not in line.offered or len(line.offered) < 2:
        pytest.skip(f"{code} not offered, or no other language to change to")
    number = fresh_number()
    phone = Phone(transport, caller=number)
    _choose(phone, phone.dial(), line, code)
    again = Phone(transport, caller=number)
    turn = again.dial()
    assert node(turn) == "main"
    outside, inside = says(turn.xml)
    assert len(outside) == 1 and "999" in outside[0]
    texts = line.texts[code]
    assert texts.prompt("main_menu") in inside[0]
    assert any(texts.prompt("change_language") in s for s in inside)
    assert node(again.press("0")) == "lang"


# --- services read aloud ---------------------------------------------------------------

def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?؟।])\s+", text) if s.strip()]


def test_every_service_is_read_in_under_80_words_each_fact_once_what_to_do_first(line):
    for code in line.offered:
        texts = line.texts[code]
        for svc in line.catalogue.services.values():
            core, detail = line.spoken(code, svc.id), line.detail(code, svc.id)
            assert words(core) < 80, (code, svc.id, words(core))
            name = signpost.title(texts, svc) + "."
            said = [s for s in sentences(core) + sentences(detail) if s != name]
            for i, a in enumerate(said):
                for b in said[i + 1:]:
                    assert not signpost.same_fact(a, b), (code, svc.id, a, b)
            reach = signpost._reach(texts, svc)[0]
            assert words(core[:core.index(reach)]) <= signpost.FIRST_WORDS, (code, svc.id)


def test_more_detail_is_offered_with_key_4(transport, line):
    svc = next(s for s in line.catalogue.services.values() if line.detail("en", s.id))
    from .test_voice import keys_to
    phone = Phone(transport, caller=fresh_number())
    phone.dial()
    phone.press(str(line.offered.index("en") + 1)) if len(line.offered) > 1 else None
    for key in keys_to(line, svc.category, svc.id):
        turn = phone.press(key)
    assert line.texts["en"].prompt("more_detail") in " ".join(h.text for h in turn.said)
    more = phone.press("4")
    assert more.said[0].text == line.detail("en", svc.id)
    assert node(more) == "service"
