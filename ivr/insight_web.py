"""`/insight`: what residents ask, by day or week, language and channel, for staff only.

    GET /insight                    the page (?period=day|week&date=YYYY-MM-DD)
    GET /insight/<table>.csv        one table of it, as CSV, for the same period

Thin: read the period from the query, ask `insight.read`, render. Nothing here can
identify a person: see `ivr/insight.py` for what is kept and for how long.
"""
from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, current_app, render_template, request

from . import charts, insight, staff

bp = Blueprint("insight", __name__, url_prefix="/insight")
bp.before_request(staff.guard())
bp.after_request(staff.secure)

COLUMNS = {
    "languages": ["channel", "language", "contacts", "emergency_first", "services_reached",
                  "found_nothing", "hung_up"],
    "services": ["service", "calls", "texts"],
    "hangups": ["menu", "calls"],
    "daily": ["day", "calls", "texts"],
    "phrases": ["phrase", "senders", "texts"],
}


def _names():
    """English names for the catalogue's services and for the menus a call can wait at."""
    cat = current_app.extensions["ivr.line"].catalogue
    titles = {sid: svc.title for sid, svc in cat.services.items()}
    menus = {"lang": "Language choice", "main": "Main menu", "choice": "\"Did you mean...\" choice"}
    menus |= {f"category:{c.id}": f"{c.title} menu" for c in cat.categories}
    menus |= {f"service:{sid}": f"After hearing: {title}" for sid, title in titles.items()}
    return titles, menus


def _figures() -> insight.Figures:
    period = insight.Period.of(request.args.get("period", "week"), request.args.get("date"))
    titles, menus = _names()
    store = current_app.extensions["ivr.store"]
    store.flush()           # this worker's own latest counts too
    return insight.read(store.client, period, titles, menus)


def _tables(figures: insight.Figures) -> dict[str, list[dict]]:
    return {"languages": figures.by_language, "services": figures.services,
            "hangups": figures.hangups, "daily": figures.daily, "phrases": figures.phrases}


@bp.get("")
@bp.get("/")
def page():
    figures = _figures()
    line = current_app.extensions["ivr.line"]
    names = {code: line.languages[code].english for code in line.languages}
    return render_template(
        "insight.html", f=figures, names=names, min_senders=insight.MIN_SENDERS,
        daily_chart=charts.columns(figures.daily, "day", ["calls", "texts"],
                                   f"Calls and texts per day, {figures.period.label}"),
        services_chart=charts.bars([(r["service"], r["calls"] + r["texts"]) for r in figures.services[:10]],
                                   f"Most asked-for services, {figures.period.label}"),
        query={"period": figures.period.kind, "date": figures.period.start.isoformat()})


@bp.get("/<table>.csv")
def download(table: str):
    if table not in COLUMNS:
        abort(404)
    figures = _figures()
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS[table], extrasaction="ignore")
    writer.writeheader()
    for row in _tables(figures)[table]:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    name = f"ivr-line-{table}-{figures.period.kind}-{figures.period.start.isoformat()}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _cell(value):
    """A spreadsheet must not read a cell as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
