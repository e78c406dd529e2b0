"""For callers who need more: send it by text, slower speech, deaf access, opt-outs, limits."""
from __future__ import annotations

import json
import threading
import urllib.parse
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ivr import create_app, segments
from ivr.simulator import Phone, Transport
from ivr.simulator import text as send_text

from .conftest import TOKEN, fresh_number, node, past_language_step

ACCOUNT = "AC" + "a" * 32


class MessagesStandIn(BaseHTTPRequestHandler):
    """A local stand-in for Twilio's Messages endpoint: records what the line sends."""
    sent: list = []
    refuse: set = set()

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        ok = self.path == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json" and form.get("To") not in self.refuse
        if ok:
            type(self).sent.append({"path": self.path, "auth": self.headers.get("Authorization"), **form})
            body = {"sid": "SM" + "b" * 32, "status": "queued", "to": form.get("To"), "body": form.get("Body"),
                    "account_sid": ACCOUNT}
            status = 201
        else:
            body = {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}
            status = 400
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def twilio_api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), MessagesStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def texting_app(tmp_path_factory, twilio_api):
    return create_app({"TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": ACCOUNT,
                       "SMS_FROM": "+441604000000", "TWILIO_API_BASE": twilio_api,
                       "DATA_DIR": tmp_path_factory.mktemp("texting"), "TEXTS_PER_CALL": 3,
                       "TEXTS_PER_DAY": 4})


@pytest.fixture
def texting_phone(texting_app):
    def make(caller=None):
        phone = Phone(Transport(TOKEN, app=texting_app), caller=fresh_number() if caller is None else caller)
        turn = past_language_step(phone, phone.dial(), "en", texting_app.extensions["ivr.line"])
        return phone, turn
    MessagesStandIn.sent = []
    return make


def test_press_one_texts_the_service_to_the_callers_mobile(texting_phone):
    phone, _ = texting_phone()
    turn = phone.say("knife bin")
    assert "To get this by text, press 1" in turn.said[-1].text
    turn = phone.press("1")
    assert "sent this to your phone" in turn.said[0].text
    assert node(turn) == "service"
    [sent] = MessagesStandIn.sent
    assert sent["To"] == phone.caller and sent["From"] == "+441604000000"
    assert sent["Body"].startswith("Knife amnesty bins:")
    assert segments.is_gsm7(sent["Body"])
    assert sent["auth"].startswith("Basic ")


def test_at_most_three_texts_per_call(texting_phone):
    phone, _ = texting_phone()
    phone.say("fraud")
    for _ in range(3):
        assert "sent" in phone.press("1").said[0].text
    assert "cannot send any more" in phone.press("1").said[0].text
    assert len(MessagesStandIn.sent) == 3


def test_a_daily_cap_per_caller_across_calls(texting_phone):
    number = fresh_number()
    for _ in range(2):
        phone, _ = texting_phone(number)
        phone.say("fraud")
        phone.press("1")
        phone.press("1")
    phone, _ = texting_phone(number)
    phone.say("fraud")
    assert "cannot send any more" in phone.press("1").said[0].text
    assert len(MessagesStandIn.sent) == 4


def test_landlines_and_foreign_numbers_are_not_offered_a_text(texting_phone):
    for number in ("+441604123456", "+15005550006", "anonymous", "", "+447700900123"):
        phone, _ = texting_phone(number)
        turn = phone.say("fraud")
        assert "press 1" not in turn.said[-1].text
        turn = phone.press("1")
        assert not MessagesStandIn.sent


def test_a_number_that_texted_stop_is_never_texted(texting_app, texting_phone):
    number = fresh_number()
    transport = Transport(TOKEN, app=texting_app)
    assert send_text(transport, "STOP", sender=number) == ""
    phone, _ = texting_phone(number)
    phone.say("fraud")
    assert "opted out" in phone.press("1").said[0].text
    assert not MessagesStandIn.sent


def test_a_refused_send_is_said_kindly(texting_phone):
    number = fresh_number()
    MessagesStandIn.refuse = {number}
    try:
        phone, _ = texting_phone(number)
        phone.say("fraud")
        turn = phone.press("1")
        assert "could not be sent" in turn.said[0].text
        assert turn.gather is not None
    finally:
        MessagesStandIn.refuse = set()


def test_seven_slows_the_voice_for_the_rest_of_the_call(english_call):
    phone, _ = english_call
    turn = phone.press("7")
    assert "more slowly" in turn.said[0].text
    assert '<prosody rate="slow">' in turn.xml
    turn = phone.press("1")
    assert '<prosody rate="slow">' in turn.xml
    turn = phone.say("slower please")
    assert '<prosody rate="slow">' in turn.xml


def test_menu_options_have_pauses_between_them(english_call):
    _, turn = english_call
    gather = ET.fromstring(turn.xml).find("Gather")
    menu = next(say for say in gather.findall("Say") if "press 1" in "".join(say.itertext()))
    assert len(menu.findall("break")) >= 4


@pytest.mark.parametrize("word", ["BSL", "deaf", "RELAY", "text relay"])
def test_deaf_people_find_999_bsl_the_text_relay_and_emergencysms(texter, word):
    reply = texter(word)
    assert "BSL" in reply and "18000" in reply
    assert "emergencySMS" in reply or "register" in reply.lower()


def test_stop_silences_the_line_and_start_brings_it_back(texter):
    assert texter("fraud")
    assert texter("Stop") == ""
    assert texter("fraud") == ""
    # Danger is the one exception: the 999 line alone, never a signpost or a menu
    # (where the account's opt-out handling blocks it, Twilio drops it; nothing is lost).
    assert texter("help me").startswith("In danger now? Call 999")
    assert "Action Fraud" not in texter("help me, fraud")
    assert "again" in texter("START")
    assert texter("fraud").startswith("Action Fraud")


@pytest.mark.parametrize("word", ["STOPALL", "unsubscribe", "cancel", "END", "quit", "revoke", "optout"])
def test_every_standard_opt_out_word(texter, word):
    assert texter(word) == ""
    assert texter("fraud") == ""
    texter("UNSTOP")
    assert texter("fraud")


@pytest.mark.parametrize("word, lang", [("wypisz", "pl"), ("стоп", "bg"), ("توقف", "ar")])
def test_an_opt_out_word_twilio_does_not_know_is_confirmed_by_the_line_in_its_language(texter, line, word, lang):
    """Twilio confirms only its own English words; without this the sender hears nothing."""
    from ivr import sms
    reply = texter(word)
    assert reply == sms.for_sms(line, lang, line.texts[lang].prompt("sms_stopped", **line.numbers)), reply
    assert "999" in reply
    assert texter("fraud") == ""


def test_an_opt_in_word_from_someone_who_never_opted_out_is_an_ordinary_message(texter):
    assert "again" not in texter("yes please")
    assert "again" not in texter("tak")


@pytest.mark.parametrize("word", ["HELP", "info"])
def test_help_and_info(texter, word):
    reply = texter(word)
    assert "999" in reply and "MENU" in reply


def test_a_sender_cannot_pump_messages(transport):
    number = fresh_number()
    replies = [send_text(transport, "fraud", sender=number) for _ in range(15)]
    assert all(replies[:10])
    assert not any(replies[11:])
    assert send_text(transport, "fraud", sender=fresh_number()), "others are not affected"


def test_untrusted_text_is_never_echoed_unescaped(client):
    from twilio.request_validator import RequestValidator
    nasty = '</Message><Redirect>http://evil.example</Redirect><Message>'
    form = {"From": fresh_number(), "Body": nasty}
    r = client.post("/sms", data=form, headers={
        "X-Twilio-Signature": RequestValidator(TOKEN).compute_signature("http://localhost/sms", form)})
    root = ET.fromstring(r.data)
    assert root.find("Redirect") is None and len(root.findall("Message")) == 1
