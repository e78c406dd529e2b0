"""The catalogue as a read-only Open Referral UK API, under /openreferral/.

    GET /openreferral/                     the API's HSDS version and profile
    GET /openreferral/services             a page of services (search, taxonomy_term_id, ages)
    GET /openreferral/services/<id>        one service, fully nested
    GET /openreferral/taxonomies[/<id>]    the line's categories as a taxonomy
    GET /openreferral/taxonomy_terms[/<id>]

Thin: page and serialise what `openreferral` builds. Public data, so no Twilio signature
(that check belongs to the webhook blueprint alone), CORS open, and an ETag so directory
tools can cache it.
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import BadRequest, HTTPException, NotFound

from . import openreferral as orx

bp = Blueprint("openreferral", __name__, url_prefix="/openreferral")

MAX_PER_PAGE = 200


def _json(doc, status: int = 200) -> Response:
    resp = Response(json.dumps(doc, ensure_ascii=False, separators=(",", ":")), status=status,
                    mimetype="application/json")
    resp.headers["Access-Control-Allow-Origin"] = "*"
    if status == 200:
        resp.headers["Cache-Control"] = "public, max-age=300"
        resp.add_etag()
        resp.make_conditional(request)
    return resp


@bp.errorhandler(HTTPException)
def _error(exc: HTTPException):
    # The app's own handler answers with TwiML for Twilio; this API answers in JSON.
    return _json({"error": exc.name, "detail": exc.description}, exc.code or 500)


def _state():
    """The line, and what every document shares, made once per app."""
    ext = current_app.extensions
    if "ivr.openreferral" not in ext:
        line = ext["ivr.line"]
        ext["ivr.openreferral"] = {
            "line": line,
            "modified": orx.catalogue_modified(current_app.config["CATALOGUE_DIR"]),
            "publisher": current_app.config.get("OPENREFERRAL_PUBLISHER") or orx.Publisher(),
            "by_uuid": {orx.uid("service", s): s for s in line.catalogue.services},
        }
    return ext["ivr.openreferral"]


def _int(name: str, default: int | None, low: int = 0, high: int | None = None):
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(float(raw))
    except ValueError:
        raise BadRequest(f"{name} must be a number") from None
    if value < low or (high is not None and value > high):
        raise BadRequest(f"{name} must be between {low} and {high}")
    return value


def _paged(items: list) -> Response:
    number = _int("page", 1, low=1)
    per_page = _int("per_page", 50, low=1, high=MAX_PER_PAGE)
    return _json(orx.page(items, number, per_page))


@bp.get("/")
def index():
    return _json(orx.api_info())


@bp.get("/services")
def services():
    st = _state()
    line, cat = st["line"], st["line"].catalogue
    chosen = orx.in_menu_order(cat)
    text = (request.args.get("search") or "").strip()[:200]
    if text:
        chosen = [cat.services[i] for i in orx.search(line, text)]
    term = request.args.get("taxonomy_term_id")
    if term:
        chosen = [s for s in chosen if orx.uid("taxonomy_term", s.category) == term]
    # As the profile's OpenAPI describes them: a minimum age of at least, a maximum age
    # of at most, the value given (a service stating no bound does not match).
    low, high = _int("minimum_age", None), _int("maximum_age", None)
    if low is not None:
        chosen = [s for s in chosen if s.min_age is not None and s.min_age >= low]
    if high is not None:
        chosen = [s for s in chosen if s.max_age is not None and s.max_age <= high]
    return _paged([orx.service_list_item(cat, s, st["modified"], st["publisher"]) for s in chosen])


@bp.get("/services/<sid>")
def service(sid: str):
    st = _state()
    svc_id = st["by_uuid"].get(sid)
    if svc_id is None:
        raise NotFound(f"no service {sid}")
    line = st["line"]
    return _json(orx.service_document(line, line.catalogue.services[svc_id], st["modified"], st["publisher"]))


@bp.get("/taxonomies")
def taxonomies():
    return _paged([orx.taxonomy(_state()["line"].catalogue)])


@bp.get("/taxonomies/<tid>")
def one_taxonomy(tid: str):
    tax = orx.taxonomy(_state()["line"].catalogue)
    if tid != tax["id"]:
        raise NotFound(f"no taxonomy {tid}")
    return _json(tax)


@bp.get("/taxonomy_terms")
def taxonomy_terms():
    cat = _state()["line"].catalogue
    return _paged([orx.taxonomy_term(cat, c.id) for c in cat.categories])


@bp.get("/taxonomy_terms/<tid>")
def one_taxonomy_term(tid: str):
    cat = _state()["line"].catalogue
    term = next((orx.taxonomy_term(cat, c.id) for c in cat.categories
                 if orx.uid("taxonomy_term", c.id) == tid), None)
    if term is None:
        raise NotFound(f"no taxonomy term {tid}")
    return _json(term)


@bp.get("/<path:rest>")
def unknown(rest: str):
    raise NotFound(f"no such endpoint: /openreferral/{rest}")
