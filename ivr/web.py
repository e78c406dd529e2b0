"""The webhooks Twilio calls. Thin: check the signature, parse, ask the line, render TwiML.

    POST /voice        an incoming call (the number's "A call comes in" webhook)
    POST /voice/step   every answer during the call (Gather actions and redirects)
    POST /sms          an incoming text (the number's "A message comes in" webhook)
    POST /voice/status Twilio's call status callback: where callers gave up, for /insight
    POST /fallback     Twilio's fallback URL: 999 guidance, needing neither Redis nor the catalogue
    GET  /healthz      liveness, and whether Redis answers
"""
from __future__ import annotations

import base64
import hmac
import logging
from dataclasses import replace
from urllib.parse import quote, unquote, urlencode

from flask import Blueprint, Request, Response, current_app, request
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from . import flow, insight, sms, trying, twiml
from .actions import Noted, SendSms
from .flow import CallState, Event

log = logging.getLogger(__name__)

bp = Blueprint("line", __name__)

MAX_FIELD = 1000   # characters read from any one form field


def form_fields(body: str) -> list[tuple[str, str]]:
    """An urlencoded form's fields, in order, as `urllib.parse.parse_qsl` reads them with
    blank values kept; written out because Twilio sends about twenty fields with every
    request and most need no unquoting (the profile showed parse_qsl's per-field calls)."""
    fields = []
    for piece in body.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        if "+" in name:
            name = name.replace("+", " ")
        if "%" in name:
            name = unquote(name, errors="replace")
        if "+" in value:
            value = value.replace("+", " ")
        if "%" in value:
            value = unquote(value, errors="replace")
        fields.append((name, value))
    return fields


class WebhookRequest(Request):
    """Flask's request, with a Twilio form read in one pass, which the signature check
    and the handler then share."""

    def _load_form_data(self) -> None:
        if "form" in self.__dict__ or self.mimetype != "application/x-www-form-urlencoded":
            return super()._load_form_data()
        limit = self.max_form_memory_size
        if limit is not None and (self.content_length or 0) > limit:
            raise RequestEntityTooLarge()
        # Twilio percent-encodes everything but ASCII; a stray byte becomes a stray letter.
        fields = form_fields(self.get_data().decode("latin-1"))
        self.__dict__.update(form=ImmutableMultiDict(fields), files=ImmutableMultiDict())


class Signature:
    """X-Twilio-Signature: base64 HMAC-SHA1 keyed by the auth token, over the URL as
    Twilio requested it and each form field's name and value, sorted. Computed here in one
    pass over the parsed form; a signature that does not match that is given to the twilio
    library's `RequestValidator`, which also tries the URL with and without its port."""

    def __init__(self, token: str):
        self._key = token.encode()
        self.validator = RequestValidator(token)

    def expected(self, url: str, form: ImmutableMultiDict) -> str:
        signed = url + "".join([name + value for name, value in sorted(set(form.items(multi=True)))])
        return base64.b64encode(hmac.digest(self._key, signed.encode(), "sha1")).decode()

    def valid(self, url: str, form: ImmutableMultiDict, signature: str) -> bool:
        if not signature:
            return False
        return (hmac.compare_digest(self.expected(url, form), signature)
                or self.validator.validate(url, form, signature))


def xml(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/xml")


def field(name: str) -> str:
    return (request.form.get(name) or "")[:MAX_FIELD]


# What Twilio puts in `From` when a caller withholds their number. Such a caller is no
# one in particular: nothing is remembered for them (or every withheld caller would
# share one remembered language) and nothing is texted to them.
WITHHELD = {"+266696687", "+7378742833", "+2562533", "+8656696", "+86282452253",
            "anonymous", "restricted", "blocked", "unavailable", "unknown", "private"}


def caller_number() -> str:
    number = field("From").strip()
    return "" if number.lower() in WITHHELD else number


@bp.before_request
def check_signature():
    """403 unless the request carries a valid X-Twilio-Signature for this exact URL."""
    if request.endpoint == "line.healthz" or current_app.config["SKIP_SIGNATURE_CHECK"]:
        return None
    signature: Signature = current_app.extensions["ivr.signature"]
    form = request.form if request.method == "POST" else ImmutableMultiDict()
    if not signature.valid(_signed_url(), form, request.headers.get("X-Twilio-Signature", "")):
        log.warning("refused a request with a missing or wrong signature on %s", request.path)
        return Response("forbidden\n", status=403, mimetype="text/plain")
    return None


def _signed_url() -> str:
    """The URL exactly as Twilio requested it: scheme and host as the proxy saw them, and
    the path and query string as sent, not as decoded and re-encoded by the framework."""
    query = request.query_string.decode("latin-1")
    path = quote(request.root_path + request.path, safe="/%:@!$&'()*+,;=-._~")
    return f"{request.scheme}://{request.host}{path}" + (f"?{query}" if query else "")


def _services():
    ext = current_app.extensions
    return ext["ivr.line"], ext["ivr.store"]


def _texter():
    """The line's texter; for a call from the /try page, the page's outbox, which it puts
    in the WSGI environ of its in-process request (no HTTP request can set that key)."""
    return request.environ.get("ivr.texter") or current_app.extensions["ivr.texter"]


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
    texter = _texter()
    caller = caller_number()
    remembered = store.sender(caller).lang if caller else None
    dialled = current_app.config["NUMBER_LANGUAGES"].get(field("To").replace(" ", ""))
    event = Event("start", preferred_lang=remembered, dialled_lang=dialled,
                  can_text=texter.reaches(caller))
    state, actions = flow.start(line, event)
    return _finish_call(line, store, state, actions, base="voice/", counted=[f"call:{state.lang}:calls"])


@bp.post("/voice/step")
def voice_step():
    line, store = _services()
    texter = _texter()
    sid, caller = field("CallSid"), caller_number()
    # The Gather action URL carries the call's place, signed by Twilio with the rest of
    # the URL: read it from there (one Redis round trip per step: the save). Redis is read
    # only when the URL has none, and the call is never lost when Redis is away.
    state = CallState.from_token(request.args.get("s", ""))
    if state is None:
        stored = store.load(store.call_key(sid)) if sid else None
        state = CallState.from_json(stored) if stored else CallState(node="main")
    before, chose = state, state.node == "lang"

    def texting(sent_in_call: int) -> str:
        return texter.status(caller, store.sender(caller), sent_in_call)

    event = replace(_event(), texting=texting)
    state, actions = flow.step(state, event, line)
    counted = [f"call:{state.lang}:{a.what}" for a in actions if isinstance(a, Noted)]
    counted += _call_counts(before, state)
    actions = [_perform(a, line, store, texter, caller) for a in actions if not isinstance(a, Noted)]
    remember = []
    if caller and (state.lang != before.lang or chose) and state.node not in ("lang", "end"):
        # A language chosen (English too) is remembered: the next call goes straight to it.
        remember.append((store.sender_key(caller, "lang"), state.lang, current_app.config["LANGUAGE_TTL"]))
    return _finish_call(line, store, state, actions, base="", counted=counted, saves=remember)


def _call_counts(before: CallState, after: CallState) -> list:
    """For /insight: a call is counted under the language it ends up in, and a service
    when the caller reaches it (not again when they ask to hear it again)."""
    counts: list = []
    if after.lang != before.lang:
        counts += [(f"call:{before.lang}:calls", -1), f"call:{after.lang}:calls"]
    if after.node == "service" and (before.node, before.service) != ("service", after.service):
        counts.append(f"call:{after.lang}:service:{after.service}")
    return counts


def where(state: CallState) -> str:
    """The menu a call waits at, as /insight names it: "lang", "main", "category:<id>"..."""
    if state.node == "category":
        return f"category:{state.category}"
    if state.node == "service":
        return f"service:{state.service}"
    return state.node


@bp.post("/voice/status")
def voice_status():
    """Twilio's call status callback (the number's "Call status changes" URL): a call that
    ends anywhere but the line's own goodbye is counted where the caller gave up; the
    call's stored place is deleted with it."""
    _, store = _services()
    sid = field("CallSid")
    if not sid or field("CallStatus") != "completed":
        return xml(twiml.message(""))
    key = store.call_key(sid)
    stored = store.load(key)
    if stored is None:
        return xml(twiml.message(""))
    state = CallState.from_json(stored)
    counts = [] if state.node in ("end", "start") else [f"call:{state.lang}:hangup:{where(state)}"]
    store.write([], _counted(counts), deletes=[key])
    return xml(twiml.message(""))


def _perform(action, line, store, texter, caller):
    """Carry out what the flow asked of the host; the flow itself does no I/O."""
    if not isinstance(action, SendSms):
        return action
    body = sms.for_sms(line, action.lang, line.sms(action.lang, action.service))
    if texter.send(caller, body):
        store.count_sent(caller)
        return action.sent
    return action.failed


def _counted(counts):
    """What /insight counts of this request: nothing when it came from the /try page."""
    return () if trying.is_pretend_line(field("To")) else counts


def _finish_call(line, store, state, actions, base, counted=(), saves=()):
    sid = field("CallSid")
    counted = _counted(counted)
    if sid or counted or saves:
        saves = [*saves, *([(store.call_key(sid), state.to_json(), current_app.config["CALL_TTL"])] if sid else [])]
        store.write(saves, counted)      # sent without waiting; the counts within a second
    return xml(twiml.voice(actions, line.languages, base + _step_url(state)))


@bp.post("/sms")
def sms_in():
    line, store = _services()
    cfg = current_app.config
    # All of the message is read for danger (Twilio's bodies are at most 1,600 characters,
    # and the request size is capped): danger may come in its last words.
    number, body = field("From"), request.form.get("Body") or ""
    if not number:
        _, text = sms.reply(sms.SmsState(), body, line)
        return xml(twiml.message(text))
    sender = store.sender(number, count_message=True)
    before = sms.SmsState.from_json(sender.sms) if sender.sms else sms.SmsState(lang=sender.lang or "en")
    decision = sms.assess(line, before.lang, body)
    pretend = trying.is_pretend_line(field("To"))      # the /try page: answered, not counted
    counted = "" if pretend else f"sms:{line.language_of(decision.lang or before.lang)}:{decision.source or 'safe'}"
    word = sms.opt_word(line, body)
    if sender.recent > cfg["SMS_PER_MINUTE"] or (sender.opted_out and word is None):
        # A sender the line would not answer (too many texts this minute, or opted out)
        # still gets the 999 line when the message reads as danger, within its own cap.
        if decision.danger and store.allow_danger(number, cfg["DANGER_PER_MINUTE"], counted):
            return xml(twiml.message(sms.danger_only(line, decision.lang or before.lang)))
        if sender.recent > cfg["SMS_PER_MINUTE"]:
            log.warning("sms rate limit reached for one sender; not replying")
        return xml(twiml.message(""))
    optout = store.sender_key(number, "optout")
    if word == "start" and not sender.opted_out and not sms.twilio_confirms(body):
        word = None             # "tak", "da" from someone who never opted out: a message like any other
    if word == "stop":
        # Twilio confirms its own opt-out words; for the others ("wypisz", "стоп") the
        # line's confirmation, in the word's language, is the only one the sender gets.
        store.set_value(optout, "1", cfg["OPTOUT_TTL"])
        store.delete(store.sender_key(number))
        if sms.twilio_confirms(body):
            return xml(twiml.message(""))
        return xml(twiml.message(sms.stopped(line, sms.opt_language(line, body, before.lang))))
    if word == "start":
        store.delete(optout)
        before = replace(before, lang=sms.opt_language(line, body, before.lang))
    answer = sms.answer(before, body, line, started=word == "start", decision=decision,
                        first_contact=sender.sms is None and sender.lang is None)
    state, text = answer.state, answer.text
    # Counted in the language of the reply: the language the text was written in.
    counts, phrase = [f"sms:{state.lang}:{decision.source or 'safe'}"], None
    if answer.found.startswith("service:"):
        counts.append(f"sms:{state.lang}:{answer.found}")
    elif not answer.found:
        # For /insight: what people text that the line could not answer, scrubbed of
        # anything that could say who they are, counted by different senders.
        counts.append(f"sms:{state.lang}:nothing")
        phrase = (insight.phrase(body), number)
    writes = []
    if state != before:
        # Only a conversation that has somewhere to go is kept (a list shown, more to
        # come, a language chosen): a one-off keyword reply stores nothing.
        writes.append((store.sender_key(number), state.to_json(), cfg["SMS_TTL"]))
    if state.lang != before.lang:
        writes.append((store.sender_key(number, "lang"), state.lang, cfg["LANGUAGE_TTL"]))
    if pretend:
        counts, phrase = [], None
    store.write(writes, counts, phrase)     # one round trip: the conversation and the counts
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
