"""The webhook layer: signatures, proxies, errors that still give 999, health, fallback."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from ivr import create_app
from ivr.web import Signature, WebhookRequest, form_fields

from .conftest import TOKEN


def signed(url, form, token=TOKEN):
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, form)}


FORM = {"CallSid": "CA" + "1" * 32, "From": "+447700900555", "To": "+441604000000"}


@pytest.mark.parametrize("path", ["/voice", "/voice/step", "/sms"])
def test_a_missing_signature_is_refused(client, path):
    assert client.post(path, data=FORM).status_code == 403


@pytest.mark.parametrize("path", ["/voice", "/voice/step", "/sms", "/fallback"])
def test_a_wrong_signature_is_refused(client, path):
    headers = signed("http://localhost" + path, FORM, token="not-the-token")
    assert client.post(path, data=FORM, headers=headers).status_code == 403


def test_a_signature_for_other_parameters_is_refused(client):
    headers = signed("http://localhost/sms", {**FORM, "Body": "fraud"})
    assert client.post("/sms", data={**FORM, "Body": "999"}, headers=headers).status_code == 403


def test_a_signature_for_another_url_is_refused(client):
    headers = signed("http://localhost/voice?s=main", FORM)
    assert client.post("/voice", data=FORM, headers=headers).status_code == 403


def test_a_correct_signature_is_accepted(client):
    r = client.post("/voice", data=FORM, headers=signed("http://localhost/voice", FORM))
    assert r.status_code == 200 and r.mimetype == "text/xml"


# Form fields as anyone could send them: any text, names repeated, empty values.
FIELDS = st.lists(st.tuples(st.text(max_size=12), st.text(max_size=40)), max_size=12)


@given(FIELDS, st.sampled_from(["http://localhost/sms", "https://ivr.example.org/voice/step?s=x%20y"]))
def test_the_line_computes_the_signature_the_twilio_library_computes(fields, url):
    form = MultiDict(fields)
    assert Signature(TOKEN).expected(url, form) == RequestValidator(TOKEN).compute_signature(url, form)


@given(st.text(alphabet="ab=&+%2CéF ", max_size=30))
def test_a_form_is_split_as_the_standard_library_splits_it(body):
    assert form_fields(body) == parse_qsl(body, keep_blank_values=True, errors="replace")


@given(FIELDS)
def test_the_form_is_read_as_werkzeug_reads_it(fields):
    def environ():
        return EnvironBuilder(method="POST", data=MultiDict(fields),
                              content_type="application/x-www-form-urlencoded").get_environ()
    assert WebhookRequest(environ()).form == Request(environ()).form


def test_a_signature_on_the_url_with_its_port_is_accepted(client):
    # Twilio's signing is not always consistent about ports: the library's check tries both.
    r = client.post("/voice", data=FORM, headers=signed("http://localhost:80/voice", FORM))
    assert r.status_code == 200


def test_behind_an_https_proxy_the_public_url_is_what_is_signed(client):
    public = "https://ivr.example.org/voice"
    headers = {**signed(public, FORM), "X-Forwarded-Proto": "https", "X-Forwarded-Host": "ivr.example.org"}
    assert client.post("/voice", data=FORM, headers=headers).status_code == 200


def test_skipping_signatures_needs_an_explicit_setting_and_is_logged_loudly(data_dir, caplog):
    app = create_app({"TWILIO_AUTH_TOKEN": TOKEN, "DATA_DIR": data_dir, "SKIP_SIGNATURE_CHECK": True})
    assert app.test_client().post("/voice", data=FORM).status_code == 200
    assert any("NOT checked" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)


def test_without_a_token_real_twilio_requests_are_refused(tmp_path):
    app = create_app({"TWILIO_AUTH_TOKEN": None, "DATA_DIR": tmp_path})
    client = app.test_client()
    assert client.post("/voice", data=FORM, headers=signed("http://localhost/voice", FORM, "")).status_code == 403
    local = app.config["SIGNING_TOKEN"]
    assert client.post("/voice", data=FORM,
                       headers=signed("http://localhost/voice", FORM, local)).status_code == 200


def test_an_exception_inside_a_handler_still_answers_twiml_with_999(app, client, monkeypatch, caplog):
    from ivr import flow

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(flow, "step", broken)
    form = {**FORM, "Digits": "1"}
    r = client.post("/voice/step", data=form, headers=signed("http://localhost/voice/step", form))
    assert r.status_code == 200 and r.mimetype == "text/xml"
    root = ET.fromstring(r.data)
    say = "".join(root.find("Say").itertext())
    assert "999" in say and "Sorry" in say
    assert "+447700900555" not in caplog.text


def test_an_exception_while_texting_still_answers_with_999(client, monkeypatch):
    from ivr import sms

    monkeypatch.setattr(sms, "answer", lambda *a, **k: 1 / 0)
    form = {**FORM, "Body": "fraud"}
    r = client.post("/sms", data=form, headers=signed("http://localhost/sms", form))
    assert r.status_code == 200
    assert "999" in ET.fromstring(r.data).find("Message").text


def test_an_unknown_path_is_not_found_and_a_get_to_a_webhook_is_not_allowed(client):
    for path in ("/nowhere", "/insight/nowhere", "/voice/nowhere"):
        assert client.post(path).status_code == 404
        assert client.get(path).status_code == 404
    for path in ("/voice", "/voice/step", "/sms", "/fallback"):
        r = client.get(path)
        assert r.status_code == 405
        assert "POST" in r.headers["Allow"]
        assert b"<Response" not in r.data


def test_a_huge_request_gets_twiml_not_an_error(client):
    form = {**FORM, "Body": "x" * 200_000}
    r = client.post("/sms", data=form, headers=signed("http://localhost/sms", form))
    assert r.status_code == 200
    assert "999" in r.get_data(as_text=True)


def test_the_fallback_url_answers_999_without_redis_or_the_catalogue(client, app, monkeypatch):
    monkeypatch.setitem(app.extensions, "ivr.store", None)
    monkeypatch.setitem(app.extensions, "ivr.line", None)
    r = client.post("/fallback", data=FORM, headers=signed("http://localhost/fallback", FORM))
    assert r.status_code == 200
    assert "999" in "".join(ET.fromstring(r.data).find("Say").itertext())


def test_healthz_reports_redis(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json == {"status": "ok", "redis": "ok"}
