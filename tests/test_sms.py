"""Texting the line: keywords, sentences, MENU, numbers, MORE, HELP, emergencies first."""
from __future__ import annotations

import re

import pytest

from ivr import segments, signpost
from ivr.simulator import text as send_text


def title_of(line, service_id):
    return line.catalogue.services[service_id].title


def keyword_table():
    """(service id, keyword) for the first two keywords of every service: read from the data."""
    from ivr import catalogue, config
    cat = catalogue.load(config.from_environment()["CATALOGUE_DIR"])
    return [(svc.id, word) for svc in cat.services.values() for word in svc.keywords[:2]]


@pytest.mark.parametrize("service_id, keyword", keyword_table())
def test_every_service_answers_its_own_keywords(texter, line, service_id, keyword):
    reply = texter(keyword)
    if "999" in keyword.split():
        # A keyword naming 999 ("999 bsl app") hears how 999 works first.
        first, reply = reply.split("\n", 1)
        assert first.startswith("In danger now? Call 999")
    assert reply.startswith(title_of(line, service_id) + ":"), reply


@pytest.mark.parametrize("message, service_id", [
    ("scam", "action-fraud"),
    ("SCAM!!!", "action-fraud"),
    ("where can I hand in a knife", "knife-bins"),
    ("my drink was spiked", "operation-kalon"),
    ("Dementia", "herbert-protocol"),
    ("knife-bin?", "knife-bins"),
    ("sarahs law", "sarahs-law"),
    ("Sarah’s Law", "sarahs-law"),
    ("dementai", "herbert-protocol"),
    ("frau", "action-fraud"),
    ("spikked", "operation-kalon"),
    ("Clãre's läw", "clares-law"),
    ("someone passed too close to my bike", "operation-close-pass"),
    ("BSL", "deaf-access"),
    ("relay", "deaf-access"),
])
def test_matching_ignores_case_accents_punctuation_and_small_typos(texter, line, message, service_id):
    assert texter(message).startswith(title_of(line, service_id) + ":")


def test_menu_then_numbers_open_a_category_then_a_service(texter, line):
    menu = texter("MENU")
    cats = line.catalogue.categories
    assert f"1 {cats[0].title}" in menu and f"{len(cats)} {cats[-1].title}" in menu
    listing = texter("3")
    services = cats[2].services
    assert f"1 {services[0].title}" in listing
    assert texter("2").startswith(services[1].title + ":")


def test_a_number_out_of_range_says_so_and_lists_again(texter):
    texter("menu")
    reply = texter("42")
    assert "number from the list" in reply
    assert "1 Reporting" in reply


def test_help_explains_the_line_and_gives_999(texter):
    reply = texter("HELP")
    assert "MENU" in reply and "999" in reply


def test_unknown_text_gets_a_friendly_hint_never_an_error(texter):
    reply = texter("purple elephants dancing")
    assert "MENU" in reply and "Sorry" in reply


def test_an_empty_message_still_gets_an_answer(texter):
    assert "MENU" in texter("")


EMERGENCIES = [
    "help me",
    "HELP ME PLEASE",
    "someone is following me",
    "a man with a knife outside",
    "there is a man with a knife outside my house",
    "he has a gun",
    "someone is breaking in",
    "someone is breaking in now, knife bin",
    "my neighbour is being attacked",
    "fire!!",
    "the house next door is on fire",
    "999",
    "I've been stabbed",
    "he is hitting me",
    "he says he is going to kill me",
    "there's an intruder in my house now",
    "my friend is unconscious and not breathing",
    "I was spiked and now someone is following me",
    "help me my drink was spiked",
    "guy waving a machete on the street",
    "emergency fraud happening now help",
    "they are threatening me with a weapon right now",
]


@pytest.mark.parametrize("message", EMERGENCIES)
def test_emergencies_get_the_999_guidance_first(texter, message):
    reply = texter(message)
    first = reply.splitlines()[0]
    assert "999" in first
    assert "emergencySMS" in reply, "texting 999 needs registering: say so"
    assert "BSL" in reply and "18000" in reply


@pytest.mark.parametrize("message, service_id", [
    ("someone is breaking in now, knife bin", None),
    ("I was spiked and now someone is following me", "operation-kalon"),
    ("help me my drink was spiked", "operation-kalon"),
])
def test_an_emergency_that_names_a_service_gets_999_first_then_the_signpost(texter, line, message, service_id):
    reply = texter(message)
    assert reply.splitlines()[0].startswith("In danger now? Call 999")
    if service_id:
        assert title_of(line, service_id) in reply
        assert reply.index("999") < reply.index(title_of(line, service_id))


@pytest.mark.parametrize("lang, message", [
    ("ro", "sotul meu ma bate"),             # my husband is beating me (not the Beat Bus)
    ("pa", "ਮੇਰਾ ਪਤੀ ਮੈਨੂੰ ਮਾਰ ਰਿਹਾ ਹੈ"),     # the same
    ("lt", "vyras mane muša"),               # the same (not a numbered choice of guesses)
    ("en", "my husband is beating me"),
])
def test_danger_in_loose_words_gets_999_then_the_menu_not_a_guessed_signpost(line, lang, message):
    from ivr import sms
    answer = sms.answer(sms.SmsState(lang=lang), message, line, first_contact=True)
    texts = line.texts[lang]
    first = sms.for_sms(line, lang, texts.prompt("sms_emergency", **line.numbers))
    hint = sms.for_sms(line, lang, texts.prompt("sms_menu_hint"))
    assert answer.text == first + "\n" + hint, answer.text
    assert answer.found == "emergency"


@pytest.mark.parametrize("message", ["999 SMS", " 999 sms", "can I text 999?", "sms 999", "999 bsl"])
def test_a_text_that_names_999_hears_how_999_works_first_then_its_answer_in_english(texter, line, message):
    reply = texter(message)
    assert reply.splitlines()[0].startswith("In danger now? Call 999"), reply
    assert "emergencySMS" in reply.splitlines()[0]
    assert reply.isascii(), "a Latin-script text is not answered in Arabic because Arabic keywords hold '999'"
    assert "Please reply with a number" not in reply


def test_999_alone_is_not_read_as_a_menu_number(texter):
    texter("MENU")
    reply = texter("999")
    assert reply.splitlines()[0].startswith("In danger now? Call 999")
    assert "Please reply with a number" not in reply


@pytest.mark.parametrize("message", ["999 SMS", "bsl 999", "sms", "999 bsl sign video"])
def test_a_latin_text_is_read_only_by_languages_written_in_latin(line, message):
    from ivr import sms
    state, _ = sms.reply(sms.SmsState(), message, line)
    assert line.writes[state.lang] == "LATIN", state.lang


@pytest.mark.parametrize("message", [
    "knife", "knife bin", "where can I hand in a knife", "bleed kit", "firearms licence",
    "fraud", "my drink was spiked last month", "menu",
])
def test_asking_about_a_service_is_not_an_emergency(texter, message):
    assert "In danger now" not in texter(message)


def test_help_alone_gets_the_999_line_then_how_the_line_works_in_every_language(line):
    """A frightened person types HELP as often as someone asking what the line does."""
    from ivr import sms
    for lang in line.offered:
        texts = line.texts[lang]
        for word in ("HELP!", texts.prompt("sms_words_help").split(",")[-1]):
            answer = sms.answer(sms.SmsState(lang=lang), word, line)
            first = sms.for_sms(line, lang, texts.prompt("sms_emergency", **line.numbers))
            help_start = re.split(r"[.\u0964]", sms.for_sms(line, lang, texts.prompt("sms_help", **line.numbers)))[0]
            assert answer.text.startswith(first.splitlines()[0][:40]), (lang, word, answer.text[:80])
            assert help_start in answer.text, (lang, word)


def test_every_english_signpost_fits_in_two_gsm7_segments(line):
    for svc in line.catalogue.services.values():
        text = signpost.sms(line.texts["en"], svc)
        assert segments.is_gsm7(text), svc.id
        assert segments.segments(text) <= 2, (svc.id, len(text))


def test_a_long_reply_continues_on_more(texter):
    texter("MENU")
    first = texter("99")       # not on the list: says so, then the whole list again
    assert first.rstrip().endswith("Reply MORE for the rest.")
    assert segments.segments(first) <= 2
    rest = texter("MORE")
    assert rest and "Reply MORE" not in rest
    assert "no more" in texter("more").lower() or "everything" in texter("more").lower()


def test_replies_are_valid_twiml(client):
    import xml.etree.ElementTree as ET
    from tests.conftest import TOKEN
    from twilio.request_validator import RequestValidator
    form = {"From": "+447700900999", "Body": "fraud & <scams>"}
    url = "http://localhost/sms"
    r = client.post("/sms", data=form,
                    headers={"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, form)})
    assert r.status_code == 200 and r.mimetype == "text/xml"
    root = ET.fromstring(r.data)
    assert root.tag == "Response" and root.find("Message") is not None


# --- everyday words, and texts that find nothing ------------------------------------------

def test_an_everyday_word_shared_by_services_gets_a_numbered_choice_that_numbers_open(texter, line):
    reply = texter("dog")
    assert reply.startswith("Did you mean one of these? Reply with a number:")
    assert "1 Animal crime" in reply and "2 Banned dogs" in reply
    assert texter("2").startswith(title_of(line, "banned-dogs"))


def test_an_everyday_word_of_one_service_leads_to_it(texter, line):
    assert texter("knife").startswith(title_of(line, "knife-bins"))
    assert texter("dogs").startswith("Did you mean")


def test_topics_close_to_a_text_that_found_nothing_are_named_and_only_close_ones(line):
    from ivr.sms import suggestions
    assert suggestions(line, "en", "safe haven scheme info") == ["safe-haven"]
    assert suggestions(line, "en", "my neighbours hedge is too tall") == []


def test_a_first_text_the_line_cannot_read_says_how_to_get_an_interpreter(transport):
    from .conftest import fresh_number
    for message in ("Labdien, kur ir tuvākā policijas iecirknis?",      # Latvian: read as Lithuanian
                    "zorp flimble quax"):                               # no language at all
        reply = send_text(transport, message, sender=fresh_number())
        assert "Need an interpreter?" in reply and "LANG" in reply, reply


@pytest.mark.parametrize("message, lang, service_id", [
    ("frauda pe internet", "ro", "action-fraud"),      # a Romanian word, not a misspelt "fraud"
    ("what do i do about a lost dog", "en", "nuisance-abandoned-animals"),   # "what" is not "chat"
])
def test_a_first_text_is_read_as_written_before_any_typo_is_guessed(line, message, lang, service_id):
    from ivr import sms
    answer = sms.answer(sms.SmsState(), message, line, first_contact=True)
    assert answer.found == f"service:{service_id}", answer.found
    assert answer.state.lang == lang


@pytest.mark.parametrize("message, lang", [
    ("hi", "en"), ("Thanks!", "en"), ("cześć", "pl"), ("mulțumesc", "ro"), ("ačiū", "lt"),
    ("obrigado", "pt"), ("благодаря", "bg"), ("شكرا", "ar"), ("ਸਤ ਸ੍ਰੀ ਅਕਾਲ", "pa"),
    ("muito obrigada", "pt"),       # "obrigada" alone once found forced marriage ("obrigada a casar")
])
def test_a_greeting_or_thanks_alone_hears_how_the_line_works_in_its_language(line, message, lang):
    from ivr import sms
    answer = sms.answer(sms.SmsState(), message, line, first_contact=True)
    assert answer.found == "hello" and answer.state.lang == lang
    assert answer.text == sms.for_sms(line, lang, line.texts[lang].prompt("sms_help", **line.numbers))


def test_a_greeting_with_danger_in_it_is_danger_first(texter):
    assert texter("hi im being followed").startswith("In danger now? Call 999")


def test_lang_lists_the_languages_numbered_and_a_number_chooses_one(transport, line):
    from tests.conftest import fresh_number
    number = fresh_number()
    listing = send_text(transport, "LANG", sender=number)
    ro = line.offered.index("ro") + 1
    assert f"{ro} Română" in listing.splitlines()
    reply = send_text(transport, str(ro), sender=number)
    assert reply.startswith(sms_text(line, "ro", "sms_language_set"))
    # After choosing, numbers are the topics' again.
    assert send_text(transport, "MENU", sender=number).startswith(sms_text(line, "ro", "sms_menu"))
    send_text(transport, "LANG", sender=number)
    send_text(transport, "Polski", sender=number)
    assert not send_text(transport, "1", sender=number).startswith(sms_text(line, "en", "sms_language_set"))


def test_a_number_after_a_listing_the_catalogue_no_longer_has_reads_the_main_menu(line):
    from ivr import sms
    answer = sms.answer(sms.SmsState(lang="en", listing="a-category-since-removed"), "2", line)
    assert answer.found.startswith("category:")


def sms_text(line, lang, key):
    from ivr import sms
    return sms.for_sms(line, lang, line.texts[lang].prompt(key, **line.numbers)).splitlines()[0]


@pytest.mark.parametrize("message, lang", [
    ("MENIU", "ro"), ("МЕНЮ", "bg"), ("قائمة", "ar"), ("ਮੀਨੂ", "pa"), ("język", "pl"),
])
def test_a_command_word_of_any_language_works_as_a_first_text_and_answers_in_it(line, message, lang):
    from ivr import sms
    answer = sms.answer(sms.SmsState(), message, line, first_contact=True)
    assert answer.found in ("menu", "lang") and answer.state.lang == lang, (answer.found, answer.state.lang)


def test_a_reply_led_by_the_999_line_may_take_one_more_segment(texter):
    reply = texter("help me my drink was spiked")
    assert reply.startswith("In danger now? Call 999")
    assert segments.segments(reply) == 3 and "Reply MORE" not in reply
    assert reply.endswith("Web: northants.police.uk")     # the whole signpost, contacts too


@pytest.mark.parametrize("message, lang", [("مساعدة", "ar"), ("ਮਦਦ", "pa"), ("POMOC", "pl")])
def test_help_in_any_language_as_a_first_text_gets_999_first_then_how_the_line_works(line, message, lang):
    from ivr import sms
    answer = sms.answer(sms.SmsState(), message, line, first_contact=True)
    first = sms.for_sms(line, lang, line.texts[lang].prompt("sms_emergency", **line.numbers))
    help_text = sms.for_sms(line, lang, line.texts[lang].prompt("sms_help", **line.numbers))
    assert answer.text.startswith(first + "\n")
    # One more segment when the 999 line leads: the help's first sentence follows it whole.
    assert re.split(r"(?<=[.\u0964])\s", help_text)[0] in answer.text


@pytest.mark.parametrize("message", ["hate crime", "car stolen", "cadettes"])
def test_an_english_first_text_is_answered_in_english_though_another_language_knows_its_words(line, message):
    """Polish keywords hold "hate crime" and Portuguese ones "cadettes": the text is still English."""
    from ivr import sms
    answer = sms.answer(sms.SmsState(), message, line, first_contact=True)
    assert answer.state.lang == "en", answer.text[:60]


@pytest.mark.parametrize("message", ["hate crime", "car stolen"])
def test_no_topic_is_guessed_past_a_word_the_catalogue_does_not_know(line, message):
    """"car stolen" is not the CarKraft driving event: "stolen" may be the word that matters."""
    from ivr import sms
    answer = sms.answer(sms.SmsState(), message, line, first_contact=True)
    assert not answer.found.startswith(("service:", "choice")), answer.found


@pytest.mark.parametrize("message, lang", [
    ("acidente na rua mas nao ha feridos", "pt"),      # and "no one hurt" is not danger
    ("ktoś włamał się na moje konto na facebooku", "pl"),
])
def test_a_text_that_finds_nothing_is_answered_in_the_language_it_is_written_in(line, message, lang):
    from ivr import sms
    answer = sms.answer(sms.SmsState(), message, line, first_contact=True)
    assert answer.found == "" and answer.state.lang == lang
    assert answer.text.startswith(sms.for_sms(line, lang, line.texts[lang].prompt("sms_unknown", **line.numbers))[:20])


def test_101_as_a_first_text_hears_how_the_line_works_not_a_menu_error(texter):
    reply = texter("101")
    assert "Please reply with a number" not in reply
    assert "Non-emergency: 101" in reply
