"""The webhooks Twilio calls. Thin: check the signature, parse, ask the line, render TwiML.

    POST /voice        an incoming call (the number's "A call comes in" webhook)
    POST /voice/step   every answer during the call (Gather actions and redirects)
    POST /sms          an incoming text (the number's "A message comes in" webhook)
    POST /fallback     Twilio's fallback URL: 999 guidance, needing neither Redis nor the catalogue
    GET  /healthz      liveness, and whether Redis answers
"""
from __future__ import annotations

import logging
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, request
from twilio.request_validator import RequestValidator

from . import flow, sms, twiml
from .flow import CallState, Event

log = logging.getLogger(__name__)

bp = Blueprint("line", __name__)

MAX_FIELD = 1000   # characters read from any one form field


def xml(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/xml")


def field(name: str) -> str:
    return (request.form.get(name) or "")[:MAX_FIELD]


@bp.before_request
def check_signature():
    """403 unless the request carries a valid X-Twilio-Signature for this exact URL."""
    if request.endpoint == "line.healthz" or current_app.config["SKIP_SIGNATURE_CHECK"]:
        return None
    validator: RequestValidator = current_app.extensions["ivr.validator"]
    signature = request.headers.get("X-Twilio-Signature", "")
    params = request.form.to_dict(flat=True) if request.method == "POST" else {}
    if not signature or not validator.validate(request.url, params, signature):
        log.warning("refused a request with a missing or wrong signature on %s", request.path)
        return Response("forbidden\n", status=403, mimetype="text/plain")
    return None


def _services():
    ext = current_app.extensions
    return ext["ivr.line"], ext["ivr.store"]


def _step_url(state: CallState) -> str:
    """The Gather action: relative, carrying the call's place in case Redis is unavailable."""
    return "step?" + urlencode({"s": state.to_token()})


def _event() -> Event:
    digits = field("Digits").strip()
    if digits:
        return Event("digits", digits)
    speech = field("SpeechResult").strip()
    if speech:
        return Event("speech", speech)
    return Event("silence")


@bp.post("/voice")
def voice():
    line, store = _services()
    caller = field("From")
    remembered = None
    if caller:
        remembered = (store.load(store.sender_key(caller, "lang")) or {}).get("lang")
    dialled = current_app.config["NUMBER_LANGUAGES"].get(field("To").replace(" ", ""))
    state, actions = flow.start(line, Event("start", preferred_lang=remembered, dialled_lang=dialled))
    return _finish_call(line, store, state, actions, caller, base="voice/")


@bp.post("/voice/step")
def voice_step():
    line, store = _services()
    sid = field("CallSid")
    stored = store.load(store.call_key(sid)) if sid else None
    state = CallState.from_json(stored) if stored else CallState.from_token(request.args.get("s", ""))
    before = state.lang
    state, actions = flow.step(state, _event(), line)
    caller = field("From")
    if caller and state.lang != before and state.node != "lang":
        store.save(store.sender_key(caller, "lang"), {"lang": state.lang},
                   current_app.config["LANGUAGE_TTL"])
    return _finish_call(line, store, state, actions, caller, base="")


def _finish_call(line, store, state, actions, caller, base):
    sid = field("CallSid")
    if sid:
        store.save(store.call_key(sid), state.to_json(), current_app.config["CALL_TTL"])
    return xml(twiml.voice(actions, line.languages, base + _step_url(state)))


@bp.post("/sms")
def sms_in():
    line, store = _services()
    sender = field("From")
    key = store.sender_key(sender) if sender else None
    state = sms.SmsState.from_json(store.load(key)) if key else sms.SmsState()
    state, text = sms.reply(state, field("Body"), line)
    if key:
        store.save(key, state.to_json(), current_app.config["SMS_TTL"])
    return xml(twiml.message(text))


@bp.post("/fallback")
def fallback():
    """For Twilio's fallback URL: pre-rendered at start-up, so it touches nothing."""
    return emergency_answer()


@bp.get("/healthz")
def healthz():
    _, store = _services()
    ok = store.ping()
    return {"status": "ok", "redis": "ok" if ok else "unavailable"}, 200


def emergency_answer() -> Response:
    """The apology and 999 guidance, as TwiML fitting the webhook that failed."""
    rendered = current_app.extensions["ivr.errors"]
    kind = "sms" if request.path.startswith("/sms") else "voice"
    return xml(rendered[kind])
