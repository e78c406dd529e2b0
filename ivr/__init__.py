"""ivr-line: an emergency-first, multilingual voice and SMS signposting line."""
from __future__ import annotations

import logging

from flask import Flask
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as config_mod

log = logging.getLogger(__name__)


def create_app(test_config: dict | None = None) -> Flask:
    """Build the webhook app: settings, the line's content, Redis, the blueprints."""
    from . import line as line_mod
    from . import insight_web, openreferral_web, sessions, texting, try_web, twiml, web
    from .actions import Hangup, Say

    app = Flask(__name__)
    app.request_class = web.WebhookRequest
    app.config.from_mapping(config_mod.from_environment())
    if test_config:
        app.config.from_mapping(test_config)
    cfg = app.config

    if cfg["PROXY_COUNT"]:
        n = cfg["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)

    line = line_mod.build(cfg)          # refuses to start on an invalid catalogue
    token = cfg["TWILIO_AUTH_TOKEN"]
    if not token:
        token = sessions.local_secret(cfg["DATA_DIR"], "local-auth-token")
        log.warning("TWILIO_AUTH_TOKEN is not set: webhooks must be signed with the local token "
                    "in %s (the simulator does this); real Twilio requests will get 403.",
                    cfg["DATA_DIR"])
    cfg["SIGNING_TOKEN"] = token
    if cfg["SKIP_SIGNATURE_CHECK"]:
        log.warning("!!! IVR_SKIP_SIGNATURE_CHECK is on: webhook signatures are NOT checked. "
                    "Anyone can post to this line. Never use this in production. !!!")
    secret = cfg["HASH_SECRET"] or sessions.local_secret(cfg["DATA_DIR"], "hash-secret")
    client = sessions.connect(cfg["REDIS_URL"], cfg["DATA_DIR"], cfg["REDIS_TIMEOUT"])

    en = line.texts["en"]
    apology = en.prompt("error", **line.numbers)
    app.extensions.update({
        "ivr.line": line,
        "ivr.store": sessions.Store(client, secret, cfg["COUNTS_WAIT"]),
        "ivr.signature": web.Signature(token),
        "ivr.texter": texting.Texter(cfg),
        # Rendered once: answering an error must not depend on anything that can fail.
        "ivr.errors": {
            "voice": twiml.voice([Say(apology, "en"), Hangup()], line.languages, ""),
            "sms": twiml.message(apology),
        },
    })
    app.register_blueprint(web.bp)
    app.register_blueprint(openreferral_web.bp)   # public data: no signature check
    app.register_blueprint(insight_web.bp)        # staff only (IVR_STAFF_PASSWORD)
    app.register_blueprint(try_web.bp)            # staff, or anyone with IVR_TRY_PUBLIC=1

    @app.errorhandler(Exception)
    def on_error(exc):
        # Whatever went wrong in a webhook, Twilio gets valid TwiML with the 999 guidance,
        # never a 5xx. Anything else (an unknown path, a GET to a webhook, a staff page)
        # gets its plain HTTP status.
        webhook = _blueprint() == "line"
        if isinstance(exc, HTTPException) and (not webhook or exc.code in (404, 405)):
            return exc
        if not isinstance(exc, HTTPException):
            log.exception("error answering %s: %s", _path(), type(exc).__name__)
        return web.emergency_answer() if webhook else InternalServerError()

    return app


def _path() -> str:
    from flask import request
    return request.path


def _blueprint() -> str | None:
    from flask import request
    return request.blueprint
