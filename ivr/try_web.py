"""`/try`: the line in a browser, for staff (or anyone, with `IVR_TRY_PUBLIC=1`).

    GET  /try          the page
    POST /try/call     {"caller": "mobile"|"landline"|"withheld"}  dial the line
    POST /try/step     {"key": "1"} | {"speech": "fraud"} | {"silence": true}
    POST /try/hangup   put the phone down
    POST /try/text     {"body": "fraud"}  a text from the session's mobile

Thin: JSON in, the same TwiML follower as `ivr-line call` (ivr.simulator) posting signed
webhooks to this app in-process, JSON out. Every POST needs the page's CSRF token.
"""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, render_template, request

from . import sms, staff, trying
from .simulator import Phone, Transport
from .simulator import text as send_text

bp = Blueprint("try", __name__, url_prefix="/try")
bp.before_request(staff.guard("TRY_PUBLIC"))
bp.after_request(staff.secure)

COOKIE = "ivr_try"
MAX_SPEECH = 300
MAX_BODY = 1600        # Twilio's longest incoming text


def _store():
    return current_app.extensions["ivr.store"]


def _limit(what: str, who: str, setting: str, default: int) -> bool:
    """Whether a public page has reached a limit (a staff-only page has none)."""
    cfg = current_app.config
    return cfg["TRY_PUBLIC"] and not trying.allow(_store(), what, who, cfg.get(setting, default))


def refused(message: str, status: int):
    return jsonify({"error": message}), status


TOO_MANY = "Too many tries this minute: wait a minute and try again."


def _session(create: bool):
    """This browser's try session; a new one (within the per-address limit) when asked."""
    store = _store()
    session = trying.load(store, request.cookies.get(COOKIE))
    if session is None and create:
        if _limit("new", request.remote_addr or "", "TRY_SESSIONS_PER_MINUTE", trying.SESSIONS_PER_MINUTE):
            return None
        session = trying.new(store)
        g.try_cookie = session.id
    return session


@bp.after_request
def set_cookie(response):
    cookie = g.pop("try_cookie", None)
    if cookie:
        response.set_cookie(COOKIE, cookie, max_age=trying.SESSION_TTL, httponly=True,
                            samesite="Strict", secure=request.is_secure, path="/try")
    return response


def _transport(outbox: trying.Outbox | None = None) -> Transport:
    app = current_app._get_current_object()
    return Transport(app.config["SIGNING_TOKEN"], app=app, base_url="http://localhost",
                     environ={"ivr.texter": outbox} if outbox is not None else None)


def _languages():
    return current_app.extensions["ivr.line"].languages


@bp.get("")
@bp.get("/")
def page():
    return render_template("try.html", callers=trying.CALLERS, csrf=staff.csrf_token(),
                           public=current_app.config["TRY_PUBLIC"] and not staff.logged_in())


@bp.post("/call")
def call():
    body = request.get_json(silent=True) or {}
    kind = body.get("caller") if body.get("caller") in trying.CALLERS else "mobile"
    session = _session(create=True)
    if session is None:
        return refused(TOO_MANY, 429)
    if _limit("steps", session.id, "TRY_STEPS_PER_MINUTE", trying.STEPS_PER_MINUTE):
        return refused(TOO_MANY, 429)
    session.kind = kind
    outbox = trying.Outbox(current_app.config)
    phone = Phone(_transport(outbox), caller=session.number(_store()), line_number=trying.LINE,
                  sid=Phone.new_sid())
    return _answer(session, phone, outbox, phone.dial)


@bp.post("/step")
def step():
    body = request.get_json(silent=True) or {}
    session = _session(create=False)
    if session is None or session.call is None:
        return refused("There is no call: press Call first.", 409)
    if _limit("steps", session.id, "TRY_STEPS_PER_MINUTE", trying.STEPS_PER_MINUTE):
        return refused(TOO_MANY, 429)
    key, speech = str(body.get("key") or ""), str(body.get("speech") or "").strip()[:MAX_SPEECH]
    outbox = trying.Outbox(current_app.config)
    phone = Phone.from_data(_transport(outbox), {**session.call, "caller": session.number(_store())})
    if key:
        if len(key) != 1 or key not in "0123456789*#":
            return refused("A key is one of 0-9, * and #.", 400)
        return _answer(session, phone, outbox, lambda: phone.press(key))
    if speech:
        return _answer(session, phone, outbox, lambda: phone.say(speech))
    if body.get("silence"):
        return _answer(session, phone, outbox, phone.silence)
    return refused("Send a key, words or silence.", 400)


def _answer(session, phone, outbox, act):
    """Play one step of the call, keep where it waits (without the number), say what happened."""
    before = len(phone.turns)
    try:
        act()
    except RuntimeError as exc:
        return refused(f"The call could not go on: {exc}.", 409)
    turns = phone.turns[before:]
    data = phone.to_data()
    data.pop("caller")
    session.call = None if phone.ended or turns[-1].gather is None else data
    trying.save(_store(), session)
    return jsonify(trying.turn(turns, _languages(), outbox))


@bp.post("/hangup")
def hangup():
    session = _session(create=False)
    if session is None or session.call is None:
        return jsonify({"ended": True})
    phone = Phone.from_data(_transport(), {**session.call, "caller": session.number(_store())})
    phone.hang_up()
    session.call = None
    trying.save(_store(), session)
    return jsonify({"ended": True})


@bp.post("/text")
def text():
    """A text from the session's mobile (a text comes from a mobile, whoever is calling),
    through the real /sms webhook and so its per-sender limits."""
    body = str((request.get_json(silent=True) or {}).get("body") or "")[:MAX_BODY]
    if not body.strip():
        return refused("Type a message first.", 400)
    session = _session(create=True)
    if session is None:
        return refused(TOO_MANY, 429)
    store, line = _store(), current_app.extensions["ivr.line"]
    number = session.number(store, "mobile")
    trying.save(store, session)
    reply = send_text(_transport(), body, sender=number, line_number=trying.LINE)
    answer = {"sent": trying.message(body), "reply": trying.message(reply) if reply else None}
    if not reply:
        if sms.opt_word(line, body) == "stop":
            answer["note"] = "No reply: the line records the opt-out, and Twilio itself confirms STOP."
        elif store.sender(number).opted_out:
            answer["note"] = "No reply: this number has texted STOP (text START to undo it)."
        else:
            answer["note"] = ("No reply: too many texts this minute from this number "
                              "(the line's limit for every sender). Wait a minute.")
    return jsonify(answer)
