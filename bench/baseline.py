"""The baseline: the framework's ceiling on this machine.

A bare Flask app under the same gunicorn settings as the line, answering the same
webhook paths with fixed TwiML: no signature check, no form parsing, no state, no
translation, no catalogue. Whatever the line spends beyond this is the line's own cost.

    gunicorn --config ivr/gunicorn_conf.py "bench.baseline:create_app()"
"""
from __future__ import annotations

from flask import Flask, Response

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
