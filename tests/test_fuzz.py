"""Bad input, proven: whatever Twilio (or anyone) posts, the answer is TwiML or a 403."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from .conftest import TOKEN, fresh_number

FIELDS = ["CallSid", "From", "To", "Digits", "SpeechResult", "Confidence", "CallStatus", "Body",
          "MessageSid", "NumMedia", "AccountSid"]
anything = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)
digits = st.text(alphabet="0123456789*#wW ", max_size=12)
forms = st.dictionaries(st.sampled_from(FIELDS) | st.text(min_size=1, max_size=20),
                        anything | digits, max_size=8)
huge = st.builds(lambda c, n: c * n, st.characters(codec="utf-8", exclude_categories=("Cs",)),
                 st.integers(min_value=1000, max_value=20000))


def post(client, path, form, sign=True):
    url = "http://localhost" + path
    headers = {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, form)} if sign else {}
    return client.post(path, data=form, headers=headers)


def twiml(response):
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.data)
    assert root.tag == "Response"
    return root


@given(form=forms)
def test_any_call_start_answers_twiml_with_999_first(client, form):
    root = twiml(post(client, "/voice", form))
    assert "999" in "".join(root.find("Say").itertext())


@given(form=forms, token=anything | st.sampled_from(["", "main.en...0.0.-.0", "service.pl.x.y.9.9.st.99"]))
def test_any_call_step_answers_twiml(client, form, token):
    root = twiml(post(client, "/voice/step?s=" + quote(token), form))
    assert root.find("Gather") is not None or root.find("Hangup") is not None
    if root.find("Hangup") is not None:
        assert "999" in "".join(root.find("Say").itertext()) or "999" in "".join(root.itertext())


@given(form=forms, body=anything | huge)
def test_any_text_answers_twiml(client, form, body):
    twiml(post(client, "/sms", {**form, "Body": body}))


@given(prefix=anything, suffix=anything,
       danger=st.sampled_from(["help me", "someone is following me", "a man with a knife outside",
                               "he is attacking me", "999"]))
def test_danger_is_found_whatever_surrounds_it(client, prefix, suffix, danger):
    form = {"From": fresh_number(), "Body": f"{prefix} {danger} {suffix}"[:400]}
    root = twiml(post(client, "/sms", form))
    message = root.find("Message")
    assert message is not None and "999" in message.text.splitlines()[0]


@given(form=forms, path=st.sampled_from(["/voice", "/voice/step", "/sms", "/fallback"]))
def test_unsigned_or_missigned_requests_get_403(client, form, path):
    assert post(client, path, form, sign=False).status_code == 403
    url = "http://localhost" + path
    wrong = {"X-Twilio-Signature": RequestValidator("wrong").compute_signature(url, form)}
    assert client.post(path, data=form, headers=wrong).status_code == 403
