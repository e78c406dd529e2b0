"""The call flow as a pure state machine: no HTTP, no Redis. State round-trips through JSON."""
from __future__ import annotations

import json

from ivr.actions import Gather, Hangup, Say
from ivr.flow import CallState, Event, start, step


def run(line, inputs, lang="en"):
    """Play inputs from the start, reloading the state from JSON before every step."""
    state, actions = start(line, Event("start"))
    history = [actions]
    if state.node == "lang":
        state, actions = step(state, Event("digits", str(line.offered.index(lang) + 1)), line)
        history.append(actions)
    for kind, text in inputs:
        state = CallState.from_json(json.loads(json.dumps(state.to_json())))
        state, actions = step(state, Event(kind, text), line)
        history.append(actions)
    return state, history


def spoken(actions):
    out = []
    for a in actions:
        if isinstance(a, Say):
            out.append(a.text)
        elif isinstance(a, Gather):
            out += [c.text for c in a.prompt if isinstance(c, Say)]
    return out


def test_the_call_opens_with_the_999_guidance_before_anything_else(line):
    _, actions = start(line, Event("start"))
    assert isinstance(actions[0], Say) and "999" in actions[0].text and actions[0].lang == "en"


def test_a_walk_by_keys_and_back(line):
    state, history = run(line, [("digits", "3"), ("digits", "5"), ("digits", "0"), ("digits", "0")])
    assert state.node == "main" and state.page == 0
    assert spoken(history[-3])[0].startswith("Knife amnesty bins")


def test_state_travels_in_a_url_token_too(line):
    state, _ = run(line, [("digits", "8"), ("digits", "3")])
    assert CallState.from_token(state.to_token()) == state
    assert CallState.from_token("garbage") is None


def test_every_end_of_the_call_carries_999(line):
    state, history = run(line, [("silence", ""), ("silence", ""), ("silence", "")])
    assert isinstance(history[-1][-1], Hangup)
    assert "999" in spoken(history[-1])[-1]
    state, history = run(line, [("digits", "1"), ("digits", "1"), ("digits", "3")])
    assert isinstance(history[-1][-1], Hangup) and "999" in spoken(history[-1])[-1]


def test_a_corrupt_or_unknown_state_starts_safely(line):
    state = CallState.from_json({"node": "nowhere", "lang": "xx", "page": "NaN"})
    new, actions = step(state, Event("digits", "1"), line)
    assert actions and all(not isinstance(a, str) for a in actions)
    assert CallState.from_json("not a dict") == CallState()


def test_a_page_past_the_end_is_not_a_crash(line):
    state = CallState(node="category", category="victim-support", page=7)
    _, actions = step(state, Event("digits", "1"), line)
    assert actions


def test_a_topic_said_at_the_language_menu_is_answered_in_english(line):
    state, _ = start(line, Event("start"))
    assert state.node == "lang"
    state, actions = step(state, Event("speech", "I want to report a scam"), line)
    assert (state.node, state.service, state.lang) == ("service", "action-fraud", "en")
    assert spoken(actions)[0].startswith("Action Fraud")


def test_danger_said_at_the_language_menu_still_gets_999_first(line):
    state, _ = start(line, Event("start"))
    state, actions = step(state, Event("speech", "help someone is stabbing my brother"), line)
    assert "999" in spoken(actions)[0]
    assert state.node == "lang"


def test_a_spoken_command_is_not_heard_as_danger(line):
    """The model alone once heard "goodbye" and "go back" as danger; a whole answer that
    is a command of the call is read by the word lists, which know better."""
    advice = line.texts["en"].prompt("emergency", **line.numbers)
    for words in ("go back", "main menu", "repeat", "bye"):
        state, history = run(line, [("digits", "1"), ("speech", words)])
        assert advice not in spoken(history[-1]), words
    state, history = run(line, [("speech", "goodbye")])
    assert isinstance(history[-1][-1], Hangup)


def test_danger_said_with_a_command_word_is_still_danger(line):
    state, history = run(line, [("speech", "help me he has a knife go back")])
    assert "999" in spoken(history[-1])[0]


def test_back_at_the_language_menu_offers_the_languages_again_not_the_main_menu(line):
    state, _ = start(line, Event("start"))
    state, _ = step(state, Event("digits", "8"), line)         # the second page of languages
    state, actions = step(state, Event("digits", "0"), line)
    assert (state.node, state.page) == ("lang", 0)
    said = " ".join(spoken(actions))
    assert line.texts["en"].prompt("top_of_menu") not in said
    assert "For English, press 1" in said
