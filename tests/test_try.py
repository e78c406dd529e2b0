"""/try on the server: access, the call and text API through the real webhooks, the
outbox that shows texts instead of sending them, limits, and what Redis keeps."""
from __future__ import annotations

import base64
import json
import re

import pytest

from ivr import create_app, trying
from ivr.simulator import Phone, Transport, parse

from .conftest import STAFF_PASSWORD, TOKEN

LOGIN = {"Authorization": "Basic " + base64.b64encode(f"staff:{STAFF_PASSWORD}".encode()).decode()}


class Browser:
    """One browser on /try: its cookies (the test client's), its login and its CSRF token."""

    def __init__(self, app, login=True):
        self.client = app.test_client()
        self.headers = dict(LOGIN) if login else {}
        page = self.client.get("/try", headers=self.headers)
        assert page.status_code == 200, page.status_code
        self.headers["X-CSRF-Token"] = re.search(r'name="csrf-token" content="([^"]+)"',
                                                 page.get_data(as_text=True)).group(1)

    def post(self, path, **body):
        return self.client.post("/try/" + path, json=body, headers=self.headers)

    def call(self, caller="mobile"):
        r = self.post("call", caller=caller)
        assert r.status_code == 200, r.get_data(as_text=True)
        return r.get_json()

    def step(self, **body):
        r = self.post("step", **body)
        assert r.status_code == 200, r.get_data(as_text=True)
        return r.get_json()

    def text(self, body):
        r = self.post("text", body=body)
        assert r.status_code == 200, r.get_data(as_text=True)
        return r.get_json()

    @property
    def session_id(self):
        return self.client.get_cookie("ivr_try", path="/try").value


def said(answer) -> str:
    return " ".join(h["text"] for h in answer["said"])


def choose(browser, answer, code, line):
    """Past the language choice (when the line asks), in `code`."""
    if answer["said"] and "press" in said(answer) and any(h["lang"] != "en-GB" for h in answer["said"]):
        answer = browser.step(key=str(line.offered.index(code) + 1))
    return answer


@pytest.fixture
def staff_browser(app):
    return Browser(app)


@pytest.fixture(scope="module")
def public_app(tmp_path_factory):
    return create_app({"TWILIO_AUTH_TOKEN": TOKEN, "DATA_DIR": tmp_path_factory.mktemp("try-public"),
                       "HASH_SECRET": "test-hash-secret", "STAFF_PASSWORD": STAFF_PASSWORD,
                       "TRY_PUBLIC": True, "TRY_STEPS_PER_MINUTE": 4,
                       "TRY_SESSIONS_PER_MINUTE": 3, "SMS_PER_MINUTE": 2})


# --- access --------------------------------------------------------------------------

def test_the_page_is_off_without_a_staff_password(tmp_path):
    app = create_app({"TWILIO_AUTH_TOKEN": TOKEN, "DATA_DIR": tmp_path, "STAFF_PASSWORD": None})
    client = app.test_client()
    assert client.get("/try").status_code == 404
    assert client.post("/try/call", json={}).status_code == 404


def test_the_page_needs_the_staff_login(app):
    client = app.test_client()
    refused = client.get("/try")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Basic")
    wrong = {"Authorization": "Basic " + base64.b64encode(b"staff:guess").decode()}
    assert client.get("/try", headers=wrong).status_code == 401
    assert client.get("/try", headers=LOGIN).status_code == 200


def test_try_public_opens_try_alone(public_app):
    client = public_app.test_client()
    assert client.get("/try").status_code == 200
    assert client.get("/insight").status_code == 401
    assert Browser(public_app, login=False).call()["waiting"]


def test_a_post_needs_the_pages_csrf_token(app):
    browser = Browser(app)
    token = browser.headers.pop("X-CSRF-Token")
    assert browser.post("call", caller="mobile").status_code == 403
    browser.headers["X-CSRF-Token"] = token.split(".")[0] + ".0123456789abcdef0123456789abcdef"
    assert browser.post("call", caller="mobile").status_code == 403
    other = Browser(app)          # another browser's token is no good with this cookie
    browser.headers["X-CSRF-Token"] = other.headers["X-CSRF-Token"]
    assert browser.post("call", caller="mobile").status_code == 403
    browser.headers["X-CSRF-Token"] = token
    assert browser.post("call", caller="mobile").status_code == 200


def test_the_page_and_its_answers_carry_the_security_headers(staff_browser):
    page = staff_browser.client.get("/try", headers=staff_browser.headers)
    answer = staff_browser.post("call", caller="mobile")
    for response in (page, answer):
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
    html = page.get_data(as_text=True)
    # Nothing inline that the policy would block: every script is a file, no style attribute.
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    assert " style=" not in html and "<style" not in html
    cookie = answer.headers.get_all("Set-Cookie")
    assert any(c.startswith("ivr_try=") and "HttpOnly" in c and "SameSite=Strict" in c for c in cookie)


# --- a call ----------------------------------------------------------------------------

def test_a_call_opens_with_the_999_guidance(staff_browser):
    answer = staff_browser.call()
    assert "999" in answer["said"][0]["text"]
    assert answer["said"][0]["lang"] == "en-GB"
    assert answer["waiting"] and answer["timeout"] == 5 and answer["silence"]


def test_a_service_is_reached_by_key_and_by_spoken_words(staff_browser, line):
    main = choose(staff_browser, staff_browser.call(), "en", line)
    assert "Main menu" in said(main)
    fraud = staff_browser.step(key="2")                  # Fraud and business crime
    assert "Fraud" in said(fraud) and fraud["waiting"]
    spoken = staff_browser.step(speech="knife bin")
    assert said(spoken).startswith("Knife amnesty bins")


def test_polish_prompts_come_with_their_language_and_menus_in_parts(staff_browser, line):
    answer = choose(staff_browser, staff_browser.call(), "pl", line)
    polish = [h for h in answer["said"] if h["lang"] == "pl-PL"]
    assert polish and any(len(h["parts"]) > 2 for h in polish)      # a menu, option by option
    assert answer["speech_lang"] == "pl-PL"
    slower = staff_browser.step(key="7")
    assert any(h["slow"] for h in slower["said"])


def test_arabic_prompts_read_right_to_left(staff_browser):
    answer = staff_browser.call()
    arabic = [h for h in answer["said"] if h["lang"] == "ar"]
    assert arabic and all(h["dir"] == "rtl" for h in arabic)
    assert all(h["dir"] == "ltr" for h in answer["said"] if h["lang"] != "ar")


def test_silence_after_the_wait_goes_on_as_twilio_would(staff_browser, line):
    choose(staff_browser, staff_browser.call(), "en", line)
    again = staff_browser.step(silence=True)
    assert again["said"] and (again["waiting"] or again["ended"])


@pytest.mark.parametrize("caller", ["landline", "withheld"])
def test_no_text_is_offered_to_a_landline_or_a_withheld_number(app, line, caller):
    browser = Browser(app)
    choose(browser, browser.call(caller), "en", line)
    service = browser.step(speech="knife bin")
    assert "by text" not in said(service)
    assert browser.step(key="1")["texts"] == []


def test_a_mobile_is_offered_a_text_and_sees_it_instead_of_it_being_sent(staff_browser, line, app):
    assert not app.extensions["ivr.texter"].enabled     # no Twilio account: nothing can be sent
    choose(staff_browser, staff_browser.call("mobile"), "en", line)
    service = staff_browser.step(speech="knife bin")
    assert "To get this by text, press 1" in said(service)
    sent = staff_browser.step(key="1")
    assert "sent this to your phone" in said(sent)
    [text] = sent["texts"]
    assert text["body"].startswith("Knife amnesty bins")
    assert text["encoding"] == "GSM-7" and text["segments"] >= 1 and text["chars"] == len(text["body"])


def test_the_texts_keep_the_lines_limit_per_call(staff_browser, line):
    choose(staff_browser, staff_browser.call("mobile"), "en", line)
    staff_browser.step(speech="knife bin")
    sent = [len(staff_browser.step(key="1")["texts"]) for _ in range(4)]
    assert sent == [1, 1, 1, 0]             # TEXTS_PER_CALL is 3


def test_the_language_is_remembered_within_a_session_and_not_across(app, line):
    first = Browser(app)
    choose(first, first.call(), "pl", line)
    first.post("hangup")
    again = first.call()
    assert not any("Po polsku, naciśnij" in h["text"] for h in again["said"])
    assert any(h["lang"] == "pl-PL" and "menu" in h["text"].lower() for h in again["said"])
    other = Browser(app)
    fresh = other.call()
    assert any("Po polsku" in h["text"] for h in fresh["said"])        # asked again


def test_a_withheld_caller_has_nothing_remembered(app, line):
    browser = Browser(app)
    choose(browser, browser.call("withheld"), "pl", line)
    assert any("Po polsku" in h["text"] for h in browser.call("withheld")["said"])


def test_a_step_without_a_call_or_with_a_bad_key_is_refused(staff_browser):
    assert staff_browser.post("step", key="1").status_code == 409
    staff_browser.call()
    assert staff_browser.post("step", key="12").status_code == 400
    assert staff_browser.post("step", key="a").status_code == 400
    assert staff_browser.post("step").status_code == 400


def test_hanging_up_ends_the_call(staff_browser):
    staff_browser.call()
    assert staff_browser.post("hangup").get_json() == {"ended": True}
    assert staff_browser.post("step", key="1").status_code == 409


# --- texts -----------------------------------------------------------------------------

def test_a_text_gets_the_lines_reply_with_its_length_as_carriers_count_it(staff_browser):
    answer = staff_browser.text("fraud")
    reply = answer["reply"]
    assert "Action Fraud" in reply["body"]
    assert reply["encoding"] == "GSM-7" and reply["segments"] == -(-len(reply["body"]) // 153)
    assert answer["sent"] == {"body": "fraud", "encoding": "GSM-7", "chars": 5, "segments": 1}


def test_a_reply_in_another_script_is_ucs2(staff_browser):
    reply = staff_browser.text("احتيال")["reply"]        # "fraud" in Arabic
    assert reply["encoding"] == "UCS-2"


def test_stop_and_start_work_as_on_the_real_line(staff_browser):
    stop = staff_browser.text("STOP")
    assert stop["reply"] is None and "Twilio itself confirms STOP" in stop["note"]
    after = staff_browser.text("fraud")
    assert after["reply"] is None and "texted STOP" in after["note"]
    assert staff_browser.text("START")["reply"]
    assert "Action Fraud" in staff_browser.text("fraud")["reply"]["body"]


# --- limits when open to anyone -----------------------------------------------------------

def test_public_mode_limits_call_steps_per_session(public_app):
    browser = Browser(public_app, login=False)
    browser.call()
    codes = [browser.post("step", key="*").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]            # 4 a minute, the call included
    assert "Too many" in browser.post("step", key="*").get_json()["error"]


def test_public_mode_limits_new_sessions_per_address(public_app):
    codes = []
    for _ in range(3):
        codes.append(Browser(public_app, login=False).post("call", caller="mobile").status_code)
    assert 429 in codes     # 3 a minute per address, and earlier tests here made sessions too
    assert Browser(public_app, login=False).post("text", body="fraud").status_code == 429


def test_texts_from_the_page_keep_the_lines_per_sender_limit(app, tmp_path):
    limited = create_app({"TWILIO_AUTH_TOKEN": TOKEN, "DATA_DIR": tmp_path, "STAFF_PASSWORD": STAFF_PASSWORD,
                          "SMS_PER_MINUTE": 2})
    browser = Browser(limited)
    replies = [browser.text("fraud") for _ in range(3)]
    assert [bool(r["reply"]) for r in replies] == [True, True, False]
    assert "too many texts this minute" in replies[-1]["note"]


# --- what is kept --------------------------------------------------------------------------

def test_redis_never_holds_the_pretend_number_and_every_try_key_expires(app, store, line):
    browser = Browser(app)
    choose(browser, browser.call("mobile"), "pl", line)
    browser.step(speech="fraud")
    browser.text("fraud")
    numbers = [trying.number(store, browser.session_id, kind) for kind in ("mobile", "landline")]
    digits = [n.lstrip("+") for n in numbers] + ["0" + n[3:] for n in numbers]
    assert browser.session_id
    for key in store.client.scan_iter("*"):
        kind = store.client.type(key)
        if kind == b"hash":
            value = b" ".join(k + b"=" + v for k, v in store.client.hgetall(key).items())
        elif kind == b"string":
            value = store.client.get(key) or b""
        else:
            value = b""
        for secret in digits + [browser.session_id]:
            assert secret.encode() not in key and secret.encode() not in value, (key, secret)
        if key.startswith(b"ivr:try"):
            assert store.client.ttl(key) > 0, key


def test_each_session_is_its_own_drama_number(app, store):
    a, b = Browser(app), Browser(app)
    a.call(), b.call()
    na, nb = (trying.number(store, x.session_id, "mobile") for x in (a, b))
    assert na != nb
    assert all(re.fullmatch(r"\+447700900\d{3}", n) for n in (na, nb))
    assert re.fullmatch(r"\+442079460\d{3}", trying.number(store, a.session_id, "landline"))


# --- the follower the page shares with `ivr-line call` ---------------------------------------

def test_a_phone_goes_on_from_plain_data(app, line):
    transport = Transport(TOKEN, app=app, base_url="https://ivr.example.org")
    phone = Phone(transport, caller="+447400123999", sid=Phone.new_sid())
    phone.dial()
    data = json.loads(json.dumps(phone.to_data()))
    resumed = Phone.from_data(transport, data)
    assert resumed.sid == phone.sid and resumed.caller == phone.caller
    turn = resumed.press(str(line.offered.index("en") + 1))
    assert "Main menu" in " ".join(h.text for h in turn.said)


def test_heard_splits_a_say_at_its_breaks_and_knows_slow_speech():
    xml = ('<Response><Gather action="step" timeout="7" language="pl-PL">'
           '<Say voice="Polly.Ewa" language="pl-PL"><prosody rate="slow">Menu. <break time="800ms"/>'
           'Jeden, <say-as interpret-as="digits">999</say-as>.<break time="800ms"/>Dwa.</prosody></Say>'
           '</Gather><Redirect>step</Redirect></Response>')
    turn = parse(xml, "https://ivr.example.org/voice")
    [heard] = turn.said
    assert heard.language == "pl-PL" and heard.slow
    assert heard.parts == ["Menu.", "Jeden, 999.", "Dwa."]
    assert turn.timeout == 7 and turn.speech_language == "pl-PL"


def test_the_page_s_calls_and_texts_are_answered_but_not_counted_in_insight(staff_browser, store, line):
    """Staff trying the line must not turn up in what residents ask: the page dials a
    drama-range line number that no real call or text reaches."""
    store.flush()
    before = store.counts()
    answer = staff_browser.call()
    answer = choose(staff_browser, answer, "en", line)
    staff_browser.step(key="3")
    assert "Action Fraud" in staff_browser.text("fraud")["reply"]["body"]
    assert "999" in staff_browser.text("someone is breaking in right now")["reply"]["body"]
    staff_browser.text("zzqx unknowable words")
    assert store.counts() == before
