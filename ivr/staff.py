"""Who may open the staff pages (`/try`, `/insight`), and how those pages defend themselves.

The pages are off unless `IVR_STAFF_PASSWORD` is set: then they ask for HTTP Basic login
(user `staff`), compared in constant time. `IVR_TRY_PUBLIC=1` opens `/try` alone to
anyone, for a demonstration. Requests that change anything carry a CSRF token (a signed
double-submit cookie), and every page response forbids framing and any script, style or
connection not served by the line itself.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Response, abort, current_app, request

USER = "staff"
CSRF_COOKIE = "ivr_csrf"
CSRF_HEADER = "X-CSRF-Token"

# Everything comes from the line itself: no CDN, no inline script, no framing.
POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
          "connect-src 'self'; media-src 'self'; font-src 'self'; object-src 'none'; "
          "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"),
                               expected.encode("utf-8", "surrogatepass"))


def logged_in() -> bool:
    """Whether the request carries the staff login (user and password in constant time)."""
    password = current_app.config["STAFF_PASSWORD"]
    auth = request.authorization
    if not password or auth is None or auth.type != "basic":
        return False
    # Both compared, always, so the time taken says nothing about which was wrong.
    user_ok = _same(auth.username or "", USER)
    password_ok = _same(auth.password or "", password)
    return user_ok and password_ok


def guard(public_setting: str | None = None):
    """A `before_request` hook: 404 while the pages are off, 401 without the login (unless
    `public_setting` names a config flag that opens the page to anyone), 403 on a changing
    request without its CSRF token."""
    def check():
        cfg = current_app.config
        public = bool(public_setting and cfg.get(public_setting))
        if not cfg["STAFF_PASSWORD"] and not public:
            abort(404)
        if not public and not logged_in():
            return Response("Staff login needed.\n", status=401, mimetype="text/plain",
                            headers={"WWW-Authenticate": 'Basic realm="ivr-line staff", charset="UTF-8"'})
        if request.method not in ("GET", "HEAD", "OPTIONS") and not csrf_ok():
            return Response("This form has expired: reload the page.\n", status=403,
                            mimetype="text/plain")
        return None
    return check


def _signed(nonce: str) -> str:
    key = current_app.config["SIGNING_TOKEN"].encode()
    return hmac.new(key, b"csrf:" + nonce.encode(), hashlib.sha256).hexdigest()[:32]


def csrf_token() -> str:
    """The token a page embeds for its script to send back in `X-CSRF-Token`: the browser's
    cookie nonce and its signature. A new nonce is set by `secure` when there is none."""
    nonce = request.cookies.get(CSRF_COOKIE, "")
    if len(nonce) != 32 or not nonce.isalnum():
        nonce = getattr(request, "_ivr_csrf_nonce", None) or secrets.token_hex(16)
        request._ivr_csrf_nonce = nonce
    return f"{nonce}.{_signed(nonce)}"


def csrf_ok() -> bool:
    """The header (or form field) must carry this browser's cookie nonce, signed by the line."""
    given = request.headers.get(CSRF_HEADER) or request.form.get("csrf_token") or ""
    nonce, _, signature = given.partition(".")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return bool(cookie) and _same(nonce, cookie) and _same(signature, _signed(cookie))


def secure(response: Response) -> Response:
    """An `after_request` hook for the pages: security headers, and the CSRF cookie."""
    response.headers["Content-Security-Policy"] = POLICY
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.setdefault("Cache-Control", "no-store")
    nonce = getattr(request, "_ivr_csrf_nonce", None)
    if nonce:
        response.set_cookie(CSRF_COOKIE, nonce, httponly=True, samesite="Strict",
                            secure=request.is_secure, path="/")
    return response
