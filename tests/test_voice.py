"""A call, end to end through the webhooks: TwiML parsed as XML, requests signed."""
from __future__ import annotations

import pytest

from ivr.flow import PAGE
from ivr.simulator import Phone, parse

from .conftest import node, past_language_step

WORDS_PER_SECOND = 2.5   # a measured pace for Polly and Google voices at normal rate


def keys_to(line, category_id: str, service_id: str) -> list[str]:
    """The keys a caller presses from the main menu to reach a service."""
    cats = [c.id for c in line.catalogue.categories]
    services = [s.id for s in line.catalogue.category(category_id).services]
    i, j = cats.index(category_id), services.index(service_id)
    return ["8"] * (i // PAGE) + [str(i % PAGE + 1)] + ["8"] * (j // PAGE) + [str(j % PAGE + 1)]


def test_the_first_words_of_a_call_are_the_999_guidance(phone):
    turn = phone.dial()
    first = turn.said[0]
    assert "999" in first.text
    assert "101" in first.text
    assert first.text.index("999") < 80, "999 must come in the first sentence"
    assert first.language == "en-GB"


def all_services(line):
    return [(c.id, s.id) for c in line.catalogue.categories for s in c.services]


def test_every_service_is_reachable_by_keys_in_at_most_four_presses(transport, line):
    from .conftest import fresh_number
    reached = set()
    for category_id, service_id in all_services(line):
        keys = keys_to(line, category_id, service_id)
        assert len(keys) <= 4, f"{service_id} needs {keys}"
        phone = Phone(transport, caller=fresh_number())
        turn = past_language_step(phone, phone.dial(), "en", line)
        for key in keys:
            turn = phone.press(key)
        service = line.catalogue.services[service_id]
        heard = " ".join(h.text for h in turn.said)
        assert heard.startswith(service.title), f"{keys} did not read {service_id}: {heard[:80]}"
        assert node(turn) == "service"
        reached.add(service_id)
    assert reached == set(line.catalogue.services)


@pytest.mark.parametrize("words, service_id", [
    ("fraud", "action-fraud"),
    ("knife bin", "knife-bins"),
    ("dementia", "herbert-protocol"),
    ("I think my drink was spiked", "operation-kalon"),
    ("Clare's law", "clares-law"),
])
def test_saying_a_topic_at_the_first_menu_goes_straight_to_the_service(english_call, line, words, service_id):
    phone, _ = english_call
    turn = phone.say(words)
    assert " ".join(h.text for h in turn.said).startswith(line.catalogue.services[service_id].title)


def test_saying_a_category_opens_its_menu(english_call):
    phone, _ = english_call
    turn = phone.say("domestic abuse")
    assert node(turn) == "category"
    assert "Clare's Law" in turn.said[-1].text


def test_every_menu_prompt_is_under_twenty_seconds(transport, line):
    """Each prompt of a menu (the options, the hints, a sentence before them) stays under
    twenty seconds; all of it can be interrupted (see test_call_time)."""
    from .conftest import fresh_number
    prompts = []
    for cat_index in range(len(line.catalogue.categories)):
        phone = Phone(transport, caller=fresh_number())
        turn = past_language_step(phone, phone.dial(), "en", line)
        prompts.append(turn)
        for _ in range(cat_index // PAGE):
            turn = phone.press("8")
            prompts.append(turn)
        turn = phone.press(str(cat_index % PAGE + 1))
        prompts.append(turn)
        if len(line.catalogue.categories[cat_index].services) > PAGE:
            prompts.append(phone.press("8"))
    for turn in prompts:
        root_gather = turn.xml.split("<Gather", 1)[1]
        spoken = parse("<Response><Gather" + root_gather, turn.url).said
        for heard in spoken:
            words = len(heard.text.split())
            assert words / WORDS_PER_SECOND <= 20, f"{words} words: {heard.text}"
        assert any("press" in h.text for h in spoken)


def test_gather_takes_keys_and_speech_with_an_action(english_call):
    _, turn = english_call
    assert turn.gather["input"] == "dtmf speech"
    assert turn.gather["action"]
    assert turn.gather["numDigits"] == "1"
    assert turn.silence_url, "silence must lead somewhere, not hang up"


def test_star_repeats_zero_goes_back_nine_gives_emergency_then_returns(english_call, line):
    phone, menu = english_call
    turn = phone.press("1")
    category_prompt = turn.said[-1].text
    assert phone.press("*").said[-1].text == category_prompt
    turn = phone.press("9")
    assert "999" in turn.said[0].text
    assert turn.said[-1].text == category_prompt, "after the emergency advice, the same menu"
    turn = phone.press("0")
    assert node(turn) == "main"
    turn = phone.press("1")
    turn = phone.press("2")
    assert node(turn) == "service"
    turn = phone.press("0")
    assert turn.said[-1].text == category_prompt


def test_eight_pages_through_long_menus_and_wraps(english_call, line):
    phone, first = english_call
    second = phone.press("8")
    assert line.catalogue.categories[PAGE].title in second.said[-1].text
    again = phone.press("8")
    assert line.catalogue.categories[0].title in again.said[-1].text


def test_a_wrong_key_reprompts_with_help_then_repeats_then_says_goodbye_with_999(english_call):
    phone, menu = english_call
    first = phone.press("6")
    assert any("Sorry" in h.text for h in first.said)
    assert any("star" in h.text for h in first.said), "the first miss explains the keys"
    second = phone.silence()
    assert not any("Sorry" in h.text for h in second.said)
    options = next(h.text for h in menu.said if "press 1" in h.text)
    assert [h.text for h in second.said] == [options], "the second miss: the menu again, nothing more"
    third = phone.say("purple elephants")
    assert third.hangup
    assert "999" in third.said[-1].text


def test_a_good_answer_resets_the_misses(english_call):
    phone, _ = english_call
    phone.press("6")
    phone.press("6")
    turn = phone.press("1")
    assert not turn.hangup
    turn = phone.press("6")
    assert not turn.hangup, "one miss after a good answer is a first miss again"


def test_after_a_service_the_caller_can_hear_it_again_go_back_or_end(english_call, line):
    phone, _ = english_call
    turn = phone.say("knife bin")
    reading = turn.said[0].text
    assert "To hear this again, press 2" in turn.said[-1].text
    assert phone.press("2").said[0].text == reading
    end = phone.press("3")
    assert end.hangup
    assert "999" in end.said[-1].text


def test_speaking_of_danger_at_any_menu_gives_the_999_guidance(english_call):
    phone, _ = english_call
    turn = phone.say("someone is breaking in now")
    assert "999" in turn.said[0].text
    assert node(turn) == "main"


def test_the_call_flow_never_dead_ends(transport, line):
    """Any key at any menu leads to a prompt or a polite goodbye with 999."""
    from .conftest import fresh_number
    for key in "0123456789*#":
        phone = Phone(transport, caller=fresh_number())
        turn = past_language_step(phone, phone.dial(), "en", line)
        for _ in range(4):
            turn = phone.press(key)
            if turn.hangup:
                assert "999" in turn.said[-1].text
                break
            assert turn.gather is not None


def test_numbers_to_dial_are_read_digit_by_digit(phone):
    """"Nine nine nine", never "nine hundred and ninety-nine", whatever the voice."""
    import xml.etree.ElementTree as ET
    turn = phone.dial()
    first = ET.fromstring(turn.xml).find("Say")
    spelled = [e.text for e in first.iter("say-as") if e.get("interpret-as") == "digits"]
    assert "999" in spelled and "101" in spelled
