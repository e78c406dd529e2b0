"""/insight: what residents ask, counted by the real webhooks, with nothing personal kept."""
from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr import create_app, insight
from ivr.simulator import Phone
from ivr.simulator import text as send_text

from .conftest import STAFF_PASSWORD, TOKEN, fresh_number, node, past_language_step

STAFF = {"Authorization": "Basic " + base64.b64encode(f"staff:{STAFF_PASSWORD}".encode()).decode()}


def figures(store, line, kind="day"):
    cat = line.catalogue
    titles = {sid: s.title for sid, s in cat.services.items()}
    store.flush()       # the counts this process has not sent yet (`ivr.tally`)
    return insight.read(store.client, insight.Period.of(kind, None), titles, {})


def row(f, channel, lang):
    for r in f.by_language:
        if (r["channel"], r["language"]) == (channel, lang):
            return r
    return {"contacts": 0, "emergency_first": 0, "services_reached": 0, "found_nothing": 0, "hung_up": 0}


# --- the words kept of a text that found nothing ------------------------------------------

@pytest.mark.parametrize("text, kept", [
    ("where do i report a noisy e-scooter", "where do i report a noisy"),
    ("call me on 07700 900123 about my bike", "call me on about my bike"),
    ("email jo.bloggs@example.com or see www.example.org/x", "email or see"),
    ("my postcode is NN1 1AA and nn4 8bh", "my postcode is and"),
    ("I saw Dave Smith at Abington Park", "i saw at"),
    ("Scooters on the pavement", "scooters on the pavement"),          # phones capitalise the first word
    ("Anyone know about Kettering Road parking", "anyone know about parking"),
    ("STOLEN BIKE SHED", "stolen bike shed"),                          # capitals throughout
    ("one two three four five six seven eight", "one two three four five six"),
    ("flat 4b, 12 high st", "flat high st"),
    ("flat ¾ on the left", "flat on the left"),                        # folds to a digit
    ("", ""),
])
def test_a_phrase_keeps_words_and_drops_what_could_say_who_sent_it(text, kept):
    assert insight.phrase(text) == kept


numbers = st.from_regex(r"(\+44 ?7\d{3}|07\d{3}) ?\d{3} ?\d{3}", fullmatch=True)
emails = st.from_regex(r"[a-z]{1,8}\.[a-z]{1,8}@[a-z]{2,8}\.(com|co\.uk|org)", fullmatch=True)
words = st.lists(st.sampled_from(["my", "bike", "was", "taken", "near", "the", "shop", "help", "Ann"]), max_size=6)


@given(before=words, number=numbers, email=emails, after=words)
def test_no_number_or_address_survives_scrubbing(before, number, email, after):
    text = " ".join(before + [number, "or", email] + after)
    kept = insight.phrase(text)
    assert not re.search(r"\d", kept) and "@" not in kept
    assert email.split("@")[0] not in kept.split()
    assert len(kept.split()) <= insight.MAX_WORDS


# --- counted by the webhooks ------------------------------------------------------------

def test_texts_are_counted_by_language_with_services_reached_and_emergencies(transport, store, line):
    before = figures(store, line)
    send_text(transport, "fraud", sender=fresh_number())
    send_text(transport, "oszustwo", sender=fresh_number())
    send_text(transport, "a man with a knife outside my house", sender=fresh_number())
    after = figures(store, line)
    en, pl = row(after, "text", "en"), row(after, "text", "pl")
    assert en["contacts"] - row(before, "text", "en")["contacts"] == 2
    assert pl["contacts"] - row(before, "text", "pl")["contacts"] == 1
    assert en["emergency_first"] - row(before, "text", "en")["emergency_first"] == 1
    assert en["services_reached"] - row(before, "text", "en")["services_reached"] == 1
    fraud = line.catalogue.services
    reached = {r["service"]: r["texts"] for r in after.services}
    was = {r["service"]: r["texts"] for r in before.services}
    assert sum(reached.values()) - sum(was.values()) == 2
    assert any(reached.get(s.title, 0) > was.get(s.title, 0) for s in fraud.values() if "fraud" in s.id)


def test_words_of_texts_that_found_nothing_are_shown_only_from_three_different_senders(transport, store, line):
    words = "wibbly quonk zarf"
    first = fresh_number()
    for _ in range(4):                                  # one sender, many times: still one
        send_text(transport, words, sender=first)
    send_text(transport, words, sender=fresh_number())
    shown = {r["phrase"]: r for r in figures(store, line).phrases}
    assert words not in shown, "two different senders are not enough"
    send_text(transport, "Wibbly quonk zarf 07700900999", sender=fresh_number())
    shown = {r["phrase"]: r for r in figures(store, line).phrases}
    assert shown[words]["senders"] == 3 and shown[words]["texts"] == 6
    assert row(figures(store, line), "text", "en")["found_nothing"] >= 6


def test_a_week_counts_different_senders_across_its_days(store, line):
    # Three senders on three different days of a week: the week shows the phrase, no day does.
    today = dt.datetime.now(dt.timezone.utc).date()
    monday = today - dt.timedelta(days=today.weekday())
    days = [monday + dt.timedelta(days=i) for i in range(3) if monday + dt.timedelta(days=i) <= today]
    if len(days) < 3:
        days = [monday - dt.timedelta(days=7) + dt.timedelta(days=i) for i in range(3)]
    words = "plinth gorse weekly"
    for i, day in enumerate(days):
        pipe = store.client.pipeline()
        pipe.hincrby(insight.phrases_key(day.isoformat()), words, 1)
        pipe.expire(insight.phrases_key(day.isoformat()), 60)
        pipe.pfadd(insight.senders_key(day.isoformat(), words), store.hashed(f"+4474000{i}"))
        pipe.expire(insight.senders_key(day.isoformat(), words), 60)
        pipe.execute()
    week = insight.read(store.client, insight.Period.of("week", days[0].isoformat()), {}, {})
    assert {r["phrase"]: r["senders"] for r in week.phrases}[words] == 3
    for day in days:
        one = insight.read(store.client, insight.Period.of("day", day.isoformat()), {}, {})
        assert words not in {r["phrase"] for r in one.phrases}


def test_calls_are_counted_in_the_language_chosen_and_services_reached(transport, store, line):
    before = figures(store, line)
    phone = Phone(transport, caller=fresh_number())
    turn = past_language_step(phone, phone.dial(), "pl", line)
    assert node(turn) == "main"
    phone.press("2")
    turn = phone.press("1")
    assert node(turn) == "service"
    phone.press("2")                                     # hearing it again is not a second service
    after = figures(store, line)
    assert row(after, "call", "pl")["contacts"] - row(before, "call", "pl")["contacts"] == 1
    assert row(after, "call", "en")["contacts"] == row(before, "call", "en")["contacts"]
    assert row(after, "call", "pl")["services_reached"] - row(before, "call", "pl")["services_reached"] == 1


def status(transport, phone, call_status="completed"):
    form = {"CallSid": phone.sid, "CallStatus": call_status, "From": phone.caller,
            "To": phone.line_number, "AccountSid": "AC" + "0" * 32, "CallDuration": "42"}
    return transport.post(transport.url("/voice/status"), form)


def test_a_caller_who_hangs_up_is_counted_at_the_menu_where_they_gave_up(transport, store, line):
    menus = {f"category:{c.id}": c.title for c in line.catalogue.categories}
    cats = line.catalogue.categories
    period = insight.Period.of("day", None)

    def gave_up():
        store.flush()
        f = insight.read(store.client, period, {}, menus)
        return {r["menu"]: r["calls"] for r in f.hangups}

    was = gave_up()
    phone = Phone(transport, caller=fresh_number())
    past_language_step(phone, phone.dial(), "en", line)
    phone.press("1")
    assert status(transport, phone)[0] == 200
    now = gave_up()
    assert now.get(cats[0].title, 0) - was.get(cats[0].title, 0) == 1
    assert store.client.exists(store.call_key(phone.sid)) == 0, "the call's place goes with the call"
    assert status(transport, phone)[0] == 200                       # a repeat counts nothing
    assert gave_up() == now


def test_a_call_the_line_ended_itself_is_not_a_caller_giving_up(transport, store, line):
    phone = Phone(transport, caller=fresh_number())
    past_language_step(phone, phone.dial(), "en", line)
    phone.press("1")
    phone.press("1")
    turn = phone.press("3")
    assert turn.hangup
    before = store.counts()
    status(transport, phone)
    assert {k: v for k, v in store.counts().items() if ":hangup:" in k} == \
        {k: v for k, v in before.items() if ":hangup:" in k}


def test_the_status_callback_is_signed_like_every_webhook(client):
    r = client.post("/voice/status", data={"CallSid": "CA" + "9" * 32, "CallStatus": "completed"})
    assert r.status_code == 403


def test_every_insight_key_expires_and_holds_no_number(transport, store, line):
    number = fresh_number()
    send_text(transport, "gloppy frabjous 07700900111 thing", sender=number)
    store.flush()                       # the counters a worker keeps for up to a second
    digits = number.lstrip("+")
    keys = list(store.client.scan_iter("ivr:stats:*")) + list(store.client.scan_iter("ivr:phrase*"))
    assert keys
    for key in keys:
        assert store.client.ttl(key) != -1, key
        assert digits[-9:] not in key.decode()
    for key in store.client.scan_iter("ivr:phrases:*"):
        for words in store.client.hkeys(key):
            assert not re.search(rb"\d", words)


# --- the page --------------------------------------------------------------------------

def test_the_page_needs_the_staff_login(client):
    assert client.get("/insight").status_code == 401
    assert "Basic" in client.get("/insight").headers["WWW-Authenticate"]
    wrong = {"Authorization": "Basic " + base64.b64encode(b"staff:guess").decode()}
    assert client.get("/insight", headers=wrong).status_code == 401
    other = {"Authorization": "Basic " + base64.b64encode(f"admin:{STAFF_PASSWORD}".encode()).decode()}
    assert client.get("/insight", headers=other).status_code == 401
    assert client.get("/insight/daily.csv").status_code == 401
    r = client.get("/insight", headers=STAFF)
    assert r.status_code == 200
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY"


def test_without_a_staff_password_the_page_does_not_exist(tmp_path):
    app = create_app({"TWILIO_AUTH_TOKEN": TOKEN, "DATA_DIR": tmp_path, "HASH_SECRET": "x",
                      "STAFF_PASSWORD": None, "TRY_PUBLIC": True})
    c = app.test_client()
    assert c.get("/insight", headers=STAFF).status_code == 404
    assert c.get("/insight/daily.csv", headers=STAFF).status_code == 404


def test_every_table_downloads_as_csv(client, transport):
    send_text(transport, "fraud", sender=fresh_number())
    for table, first in [("daily", "day"), ("languages", "channel"), ("services", "service"),
                         ("hangups", "menu"), ("phrases", "phrase")]:
        r = client.get(f"/insight/{table}.csv?period=week", headers=STAFF)
        assert r.status_code == 200 and r.mimetype == "text/csv"
        assert "attachment" in r.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
        assert rows[0][0] == first
    daily = list(csv.DictReader(io.StringIO(client.get("/insight/daily.csv?period=week", headers=STAFF)
                                            .get_data(as_text=True))))
    assert 1 <= len(daily) <= 7 and sum(int(r["texts"]) for r in daily) >= 1
    assert client.get("/insight/secrets.csv", headers=STAFF).status_code == 404


def test_the_page_shows_the_periods_figures(client, transport, store, line):
    send_text(transport, "knife bin", sender=fresh_number())
    html = client.get("/insight?period=day", headers=STAFF).get_data(as_text=True)
    texts = re.search(r'data-figure="texts">(\d+)<', html).group(1)
    assert int(texts) == sum(r["contacts"] for r in figures(store, line).by_language if r["channel"] == "text")
    assert "<svg" in html and "Knife" in html


@pytest.mark.parametrize("kind, when, start", [
    ("day", "2026-12-02", dt.date(2026, 12, 2)),
    ("week", "2026-12-02", dt.date(2026, 11, 30)),
    ("week", "not a date", dt.date(2026, 11, 30)),
    ("day", "2027-06-01", dt.date(2026, 12, 4)),        # the future is today
    ("day", "2020-01-01", dt.date(2026, 10, 26)),       # older than the counters are kept
])
def test_a_period_is_a_day_or_a_week_that_has_counters(kind, when, start):
    period = insight.Period.of(kind, when, now=dt.date(2026, 12, 4))
    assert period.start == start
    assert all(d <= "2026-12-04" for d in period.days)
