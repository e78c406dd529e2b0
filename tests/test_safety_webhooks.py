"""Never silent to danger: through signed webhooks, in every language, on every path."""
from __future__ import annotations

import pytest

from ivr.simulator import Phone
from ivr.simulator import text as send_text

from .conftest import fresh_number, node
from .test_languages import _choose

# Danger as people write or say it, two per language (not in the word lists as such).
DANGER = {
    "en": ["help someone is breaking into my house right now", "hes got a knife n hes outside my door"],
    "pl": ["Napadli na mnie", "pomocy ktos sie wlamuje do domu"],
    "ro": ["ajutor ma bate si nu ma lasa sa ies", "e un barbat cu cutit in curte"],
    "lt": ["Padėkite!", "vyras mane musa padekit"],
    "pt": ["Ajudem!", "socorro ele ta com uma faca na porta"],
    "bg": ["Удари ме", "помощ някой влиза в къщата"],
    "ar": ["اتصلوا بالإسعاف", "الحقوني في واحد معه سكين"],
    "pa": ["ਘਰ ਵਿੱਚ ਕੋਈ ਵੜ ਗਿਆ", "bachao mainu maar reha"],
}
CASES = [(lang, text) for lang, texts in DANGER.items() for text in texts]


def first_line(line, lang):
    """The 999 line's first line, as it is sent in that language (Romanian unaccented)."""
    from ivr.sms import for_sms
    return for_sms(line, lang, line.texts[lang].prompt("sms_emergency", **line.numbers).splitlines()[0])


@pytest.mark.parametrize("lang, text", CASES)
def test_a_first_text_in_any_language_gets_999_first_in_that_language(transport, line, lang, text):
    """A sender who never chose a language is read in every language."""
    reply = send_text(transport, text, sender=fresh_number())
    assert reply.startswith(first_line(line, lang)[:40]), (text, reply[:80])


@pytest.mark.parametrize("lang", sorted(DANGER))
def test_danger_said_at_every_menu_in_every_language_gets_the_999_guidance(transport, line, lang):
    said = DANGER[lang][1]
    voice = line.languages[lang].voice
    # At the language menu, before any language is chosen.
    phone = Phone(transport, caller=fresh_number())
    turn = phone.dial()
    assert node(turn) == "lang"
    heard = phone.say(said)
    assert "999" in heard.said[0].text, (lang, heard.said[0].text)
    # At the main menu, in the chosen language's voice.
    phone = Phone(transport, caller=fresh_number())
    turn = _choose(phone, phone.dial(), line, lang)
    assert node(turn) == "main"
    heard = phone.say(said)
    assert "999" in heard.said[0].text and heard.said[0].voice == voice, (lang, heard.said[0])
    assert node(heard) == "main"
    # After a service was read.
    phone.press("1")
    turn = phone.press("1")
    assert node(turn) == "service"
    heard = phone.say(said)
    assert "999" in heard.said[0].text and heard.said[0].voice == voice, (lang, heard.said[0])


def test_a_sender_past_the_rate_limit_still_gets_the_999_line_within_its_own_cap(transport, app):
    number = fresh_number()
    limit, cap = app.config["SMS_PER_MINUTE"], app.config["DANGER_PER_MINUTE"]
    for _ in range(limit):
        assert send_text(transport, "fraud", sender=number)
    assert send_text(transport, "fraud", sender=number) == "", "over the limit: nothing"
    for _ in range(cap):
        reply = send_text(transport, "help hes got a knife hes outside", sender=number)
        assert reply.startswith("In danger now? Call 999")
        assert "Action Fraud" not in reply
    assert send_text(transport, "help hes got a knife hes outside", sender=number) == "", \
        "the danger replies have a cap of their own, so the line cannot be used to pump texts"


def test_danger_at_the_end_of_a_long_text_is_read(transport):
    body = ("hi i wanted to ask about the community speed watch and bike marking, " * 22
            + "but right now theres a man with a knife outside my door")
    assert len(body) > 1500
    reply = send_text(transport, body, sender=fresh_number())
    assert reply.startswith("In danger now? Call 999")


def test_every_decision_is_counted_and_no_text_is_kept(transport, store, line):
    before = store.counts()
    send_text(transport, "fraud", sender=fresh_number())
    send_text(transport, "help me", sender=fresh_number())
    send_text(transport, "pls my ex is outside bangin on the windows screaming hes gona get me",
              sender=fresh_number())
    phone = Phone(transport, caller=fresh_number())
    _choose(phone, phone.dial(), line, "en")
    phone.say("someone is breaking in")
    after = store.counts()
    grew = {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)}
    assert grew.get("sms:en:safe", 0) >= 1
    assert grew.get("sms:en:words", 0) >= 1
    assert grew.get("sms:en:words", 0) + grew.get("sms:en:model", 0) >= 2
    assert grew.get("call:en:words", 0) + grew.get("call:en:model", 0) >= 1
    ids = set(line.catalogue.services) | {c.id for c in line.catalogue.categories}
    for k in after:
        channel, lang, what, *rest = k.split(":")
        assert channel in ("call", "sms") and lang in line.offered, k
        assert what in ("calls", "words", "model", "safe", "nothing", "service", "hangup"), k
        # Nothing but catalogue ids and menu names after that: never any text.
        assert all(part in ids or part in ("service", "category", "main", "lang", "choice")
                   for part in rest), k
    assert store.client.ttl(store.stats_key()) > 0


@pytest.mark.parametrize("text", ["POLICE!!!", "ambulance", "policja", "الشرطة", "sos"])
def test_a_bare_cry_as_the_whole_text_gets_999_first(transport, line, text):
    reply = send_text(transport, text, sender=fresh_number())
    assert "999" in reply.splitlines()[0], (text, reply[:80])


def test_the_same_word_inside_an_ordinary_question_is_not_a_cry(transport):
    reply = send_text(transport, "police station opening hours", sender=fresh_number())
    assert "In danger now" not in reply
