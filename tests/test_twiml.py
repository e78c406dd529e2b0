"""TwiML rendered once and reused is byte for byte what the twilio library builds each time."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from twilio.twiml.messaging_response import MessagingResponse

from ivr import twiml
from ivr.actions import Gather, Hangup, Pause, Say

text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from(
    "&<>\"'\n\t"), max_size=200)


@given(text)
def test_a_reply_is_what_the_library_builds(body):
    response = MessagingResponse()
    if body:
        response.message(body)
    assert twiml.message(body) == str(response)


URLS = ["step?s=main.en...0.0.-.0", "voice/step?s=service.pl.x.y.9.9.st.99", "", 'a"b&c<d>\n\r\t',
        "step?s=%C5%82&x=1"]
WORDS = ["", "Main menu.\nFor fraud, press 2.", "call 999 or 101 & ask <help>", "łódź \"quoted\" 'x'"]


def test_a_turn_rendered_from_the_memo_is_the_one_built_afresh(line):
    for url in URLS:
        for words in WORDS:
            for slow in (False, True):
                for actions in ([Say("If you are in danger, call 999.\nOr 101.", "en"),
                                 Gather((Say(words or "menu", "pl", slow), Pause(1)), "pl", ("fraud", "knife"))],
                                [Say(words or "bye", "ar"), Hangup()]):
                    fresh = twiml._render(actions, line.languages, url)
                    assert twiml.voice(actions, line.languages, url) == fresh, (url, words)
                    assert twiml.voice(actions, line.languages, url) == fresh      # from the memo
