"""The baselines: what the framework alone does on this machine, measured in the same run.

Two Flask apps under the same gunicorn settings as the line, answering the same webhook
paths with fixed TwiML:

- `create_app()`, bare: no signature check, no form parsing, no state, no translation, no
  catalogue. The framework's ceiling.
- `create_minimal_app()`, the least a *correct* webhook does: it parses the form and checks
  `X-Twilio-Signature` (one HMAC-SHA1 over the URL as received and the sorted form, with the
  twilio library's `RequestValidator`, compared in constant time), answering 403 when it is
  wrong, and nothing else. Whatever the line spends beyond this is the line's own cost.

    gunicorn --config ivr/gunicorn_conf.py "bench.baseline:create_app()"
    gunicorn --config ivr/gunicorn_conf.py "bench.baseline:create_minimal_app()"
"""
from __future__ import annotations

import hmac
import os

from flask import Flask, Response, request
from twilio.request_validator import RequestValidator

MENU = ('<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Gather action="/voice/step" input="dtmf speech" language="en-GB" method="POST" '
        'numDigits="1" timeout="5"><Say language="en-GB" voice="Polly.Amy">Main menu. '
        'For Reporting and contacting the police, press 1. For Fraud and business crime, '
        'press 2. For Staying safe, press 3. For Roads and driving, press 4. For Animals '
        'and wildlife, press 5. For more, press 8.</Say></Gather>'
        '<Redirect method="POST">/voice/step</Redirect></Response>')
MESSAGE = ('<?xml version="1.0" encoding="UTF-8"?><Response><Message>Action Fraud: report '
           'fraud and scams. Action Fraud: 0300 123 2040; Web: northants.police.uk'
           '</Message></Response>')


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/voice")
    @app.post("/voice/step")
    def voice():
        return Response(MENU, mimetype="text/xml")

    @app.post("/sms")
    def sms():
        return Response(MESSAGE, mimetype="text/xml")

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app


def create_minimal_app() -> Flask:
    """Bare Flask plus the form parsed and the signature checked: the least a correct
    Twilio webhook does (the token is `TWILIO_AUTH_TOKEN`, as for the line)."""
    validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
    app = Flask(__name__)

    def signed() -> bool:
        expected = validator.compute_signature(request.url, request.form)
        return hmac.compare_digest(expected, request.headers.get("X-Twilio-Signature", ""))

    def answer(body: str) -> Response:
        if not signed():
            return Response("forbidden\n", status=403, mimetype="text/plain")
        return Response(body, mimetype="text/xml")

    @app.post("/voice")
    @app.post("/voice/step")
    def voice():
        return answer(MENU)

    @app.post("/sms")
    def sms():
        return answer(MESSAGE)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app
