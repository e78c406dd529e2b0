"""The catalogue as an Open Referral UK API, and an Open Referral directory as a line."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from ivr import catalogue, create_app, openreferral
from ivr.simulator import Phone, Transport
from ivr.simulator import text as send_text

from .conftest import TOKEN, fresh_number, node, past_language_step
from .test_voice import keys_to

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "openreferral"
SCHEMAS = "https://raw.githubusercontent.com/openreferral/uk-profile/main/schema/"   # as the OpenAPI refers to them
FILES = {"compiled/service.json": "service.json", "compiled/service_list.json": "service_list.json",
         "taxonomy.json": "taxonomy.json", "taxonomy_term.json": "taxonomy_term.json"}


def _registry() -> Registry:
    pairs = [(SCHEMAS + name, Resource.from_contents(json.loads((DATA / "schema" / f).read_text()),
                                                     default_specification=DRAFT202012))
             for name, f in FILES.items()]
    return Registry().with_resources(pairs)


REGISTRY = _registry()
OPENAPI = json.loads((DATA / "schema" / "openapi.json").read_text())
PAGE = OPENAPI["components"]["schemas"]["Page"]


def valid(doc, name: str) -> None:
    """Against the profile's own schema, formats (uuid, uri, email, date-time) checked."""
    schema = {"$ref": SCHEMAS + name}
    errors = list(Draft202012Validator(schema, registry=REGISTRY, format_checker=FormatChecker()).iter_errors(doc))
    assert not errors, [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]]


def valid_page(doc, item_schema: str) -> None:
    errors = list(Draft202012Validator(PAGE, format_checker=FormatChecker()).iter_errors(doc))
    assert not errors, [e.message for e in errors]
    for item in doc["contents"]:
        valid(item, item_schema)


def test_the_format_checker_checks_what_the_profile_asks_for():
    checker = FormatChecker()
    for fmt, bad in (("uuid", "not-a-uuid"), ("uri", "no scheme"), ("email", "nobody"), ("date-time", "today")):
        assert fmt in checker.checkers, f"{fmt} would not be checked: install the test extra"
        assert not checker.conforms(bad, fmt)


# --- The API ---------------------------------------------------------------------------

def get(client, path, **query):
    resp = client.get(path, query_string=query)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def test_the_root_names_the_version_and_profile(client):
    resp = client.get("/openreferral/")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    info = resp.get_json()
    assert info["version"] == "3.0" and "uk-profile" in info["profile"].lower()
    errors = Draft202012Validator(OPENAPI["paths"]["/"]["get"]["responses"]["200"]["content"]
                                  ["application/json"]["schema"], format_checker=FormatChecker()).iter_errors(info)
    assert not list(errors)


def test_every_service_in_the_list_and_in_full_is_valid_against_the_profile(client, line):
    listing = get(client, "/openreferral/services", per_page=200)
    valid_page(listing, "compiled/service_list.json")
    assert listing["total_items"] == len(line.catalogue.services) == len(listing["contents"])
    for item in listing["contents"]:
        full = get(client, f"/openreferral/services/{item['id']}")
        valid(full, "compiled/service.json")
        assert {k: full[k] for k in item} == item


def test_a_service_carries_its_facts_from_the_catalogue(client, line):
    svc = line.catalogue.services["action-fraud"]
    doc = get(client, f"/openreferral/services/{openreferral.uid('service', 'action-fraud')}")
    assert doc["name"] == svc.title and doc["description"] == svc.summary and doc["status"] == "active"
    assert doc["organization"]["name"] == "Action Fraud"
    numbers = {c.contact.number for c in svc.contacts if c.contact.kind == "phone"}
    assert {p["number"] for p in doc["phones"]} == numbers and "0300 123 2040" in numbers
    assert [lang["code"] for lang in doc["languages"]] == line.offered
    assert doc["service_areas"][0]["name"] == "Northamptonshire"
    assert doc["attributes"][0]["taxonomy_term"]["term"] == svc.category
    assert {t["language"] for t in doc["x_translations"]} <= set(line.offered) - {"en"}
    police = get(client, f"/openreferral/services/{openreferral.uid('service', 'live-chat')}")
    assert police["organization"]["name"] == "Northamptonshire Police"
    assert police["url"] == line.catalogue.contacts["force-website"].url


def test_every_number_url_and_address_comes_from_contacts_yaml(client, line):
    known = {v for c in line.catalogue.contacts.values() for v in (c.number, c.url, c.address) if v}
    for item in get(client, "/openreferral/services", per_page=200)["contents"]:
        full = get(client, f"/openreferral/services/{item['id']}")
        given = {p["number"] for p in full["phones"]} | {full.get("url"), full.get("email")} - {None}
        assert given <= known, given - known


def test_ids_are_stable_uuids_of_the_catalogue_ids():
    assert openreferral.uid("service", "action-fraud") == "d53cd203-e0e3-50c5-b350-5f88a580839e"


def test_ages_where_the_catalogue_has_them(client, line):
    aged = [s for s in line.catalogue.services.values() if s.min_age is not None]
    assert aged
    doc = get(client, f"/openreferral/services/{openreferral.uid('service', aged[0].id)}")
    assert doc["minimum_age"] == aged[0].min_age
    found = get(client, "/openreferral/services", minimum_age=aged[0].min_age, per_page=200)["contents"]
    assert doc["id"] in {s["id"] for s in found}
    assert all(s["minimum_age"] >= aged[0].min_age for s in found)


def test_search_ranks_with_the_line_s_own_matcher(client):
    found = get(client, "/openreferral/services", search="fraud")["contents"]
    assert found[0]["id"] == openreferral.uid("service", "action-fraud")
    assert found[0]["name"].startswith("Action Fraud")
    assert get(client, "/openreferral/services", search="zzqx")["empty"] is True


def test_pages_and_taxonomy_filters(client, line):
    first = get(client, "/openreferral/services", per_page=5)
    assert first["size"] == 5 and first["first_page"] and not first["last_page"]
    assert first["total_pages"] == -(-len(line.catalogue.services) // 5)
    last = get(client, "/openreferral/services", per_page=5, page=first["total_pages"])
    assert last["last_page"] and not last["first_page"]
    terms = get(client, "/openreferral/taxonomy_terms")
    valid_page(terms, "taxonomy_term.json")
    assert [t["term"] for t in terms["contents"]] == [c.id for c in line.catalogue.categories]
    fraud = next(t for t in terms["contents"] if t["term"] == "fraud")
    valid(get(client, f"/openreferral/taxonomy_terms/{fraud['id']}"), "taxonomy_term.json")
    in_fraud = get(client, "/openreferral/services", taxonomy_term_id=fraud["id"])["contents"]
    assert [s["name"] for s in in_fraud] == [s.title for s in line.catalogue.category("fraud").services]
    taxonomies = get(client, "/openreferral/taxonomies")
    valid_page(taxonomies, "taxonomy.json")
    valid(get(client, f"/openreferral/taxonomies/{taxonomies['contents'][0]['id']}"), "taxonomy.json")


def test_public_cacheable_cors_open_and_unsigned(client):
    resp = client.get("/openreferral/services")          # no X-Twilio-Signature
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    etag = resp.headers["ETag"]
    again = client.get("/openreferral/services", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert client.post("/sms", data={"Body": "fraud"}).status_code == 403   # the webhooks still check


def test_errors_are_json(client):
    for path, code in (("/openreferral/services/nope", 404), ("/openreferral/nothing", 404),
                       ("/openreferral/services?page=x", 400), ("/openreferral/services?per_page=0", 400)):
        resp = client.get(path)
        assert resp.status_code == code and resp.get_json()["error"]


def test_export_writes_the_same_documents(tmp_path, client, line):
    openreferral.export(line, tmp_path, "2025-01-01T00:00:00.000Z")
    files = sorted((tmp_path / "services").glob("*.json"))
    assert len(files) == len(line.catalogue.services)
    for f in files:
        doc = json.loads(f.read_text())
        valid(doc, "compiled/service.json")
        served = get(client, f"/openreferral/services/{doc['id']}")
        assert {**served, "last_modified": None} == {**doc, "last_modified": None}
    valid_page(json.loads((tmp_path / "services.json").read_text()), "compiled/service_list.json")


# --- Import ----------------------------------------------------------------------------

def test_the_test_directory_is_valid_against_the_profile():
    files = sorted((DATA / "riverside").glob("*.json"))
    assert len(files) == 3
    for f in files:
        valid(json.loads(f.read_text()), "compiled/service.json")


def test_export_then_import_gives_the_same_services(tmp_path, line):
    openreferral.export(line, tmp_path / "export", "2025-01-01T00:00:00.000Z")
    imported = openreferral.import_services(openreferral.read_source(str(tmp_path / "export")), line.catalogue)
    assert not imported.refused
    openreferral.write_catalogue(imported, tmp_path / "cat", ROOT / "catalogue" / "emergency")
    again = catalogue.load(tmp_path / "cat")
    assert again.services == line.catalogue.services
    assert [(c.id, c.title, c.services) for c in again.categories] == \
           [(c.id, c.title, c.services) for c in line.catalogue.categories]


def test_without_the_line_s_extension_the_standard_fields_survive(tmp_path, line):
    openreferral.export(line, tmp_path, "2025-01-01T00:00:00.000Z")
    docs = [json.loads(f.read_text()) for f in sorted((tmp_path / "services").glob("*.json"))]
    for d in docs:
        d.pop("x_ivr_line")
    imported = openreferral.import_services(docs, line.catalogue)
    by_title = {s["title"]: s for s in imported.services}
    for svc in line.catalogue.services.values():
        if svc.title in by_title:
            row = by_title[svc.title]
            assert row["summary"] == svc.summary and row["category"] == svc.category
            numbers = {imported.contacts[c["ref"]].get("number") for c in row["contacts"]} - {None}
            assert numbers == {c.contact.number for c in svc.contacts if c.contact.kind == "phone"}
    # Services reached only in person or by an app have nothing the standard can carry.
    assert all("field phones, url, email" in r for r in imported.refused)


def test_what_cannot_be_used_is_refused_by_name_and_field(line):
    docs = [
        {"id": "a", "name": "Closed Library", "status": "defunct", "description": "Gone."},
        {"id": "b", "name": "No Way In", "status": "active", "description": "Nothing to call."},
        {"id": "c", "name": "Odd Number", "status": "active", "description": "x", "phones": [{"number": "call us"}]},
        {"id": "d", "name": "Plain Web", "status": "active", "description": "x", "url": "http://example.org/"},
        {"id": "e", "name": "Silent", "status": "active", "url": "https://example.org/"},
    ]
    refused = openreferral.import_services(docs, line.catalogue).refused
    assert refused == [
        "service 'Closed Library': field status: 'defunct', not active",
        "service 'No Way In': field phones, url, email: no phone number, website or email address to give a caller",
        "service 'Odd Number': field phones.number: 'call us' is not a UK phone number",
        "service 'Plain Web': field url: 'http://example.org/' is not an https address",
        "service 'Silent': field description: missing",
    ]


@pytest.fixture(scope="module")
def riverside(tmp_path_factory):
    """A line made from another organisation's directory, served as the app would be."""
    from ivr.catalogue import load
    tmp = tmp_path_factory.mktemp("riverside")
    base = load(ROOT / "catalogue")
    imported = openreferral.import_services(openreferral.read_source(str(DATA / "riverside")), base)
    assert not imported.refused
    openreferral.write_catalogue(imported, tmp / "catalogue", ROOT / "catalogue" / "emergency")
    app = create_app({"TWILIO_AUTH_TOKEN": TOKEN, "DATA_DIR": tmp / "data", "CATALOGUE_DIR": tmp / "catalogue",
                      "HASH_SECRET": "test-hash-secret", "TESTING": True})
    return app, Transport(TOKEN, app=app, base_url="https://ivr.example.org")


def test_an_imported_directory_keeps_its_facts(riverside):
    line = riverside[0].extensions["ivr.line"]
    cat = line.catalogue
    assert [c.title for c in cat.categories] == ["Food and essentials", "Young people"]
    youth = cat.services["youth-advice-drop-in"]
    assert (youth.min_age, youth.max_age) == (11, 19)
    assert {u.contact.number or u.contact.address for u in youth.contacts} == {"01632 960002", "youth@example.org"}
    food = cat.services["riverside-food-bank"]
    assert {u.contact.number or u.contact.url for u in food.contacts} == {"01632 960001", "https://foodbank.example.org/"}
    assert len(food.summary) <= 240 and len(food.spoken.split()) <= 60


@pytest.mark.parametrize("service_id, said", [("riverside-food-bank", "riverside food bank"),
                                              ("warm-spaces", "warm spaces"),
                                              ("youth-advice-drop-in", "youth advice drop in")])
def test_an_imported_line_answers_by_keys_speech_and_text_999_first(riverside, service_id, said):
    app, transport = riverside
    line = app.extensions["ivr.line"]
    svc = line.catalogue.services[service_id]
    phone = Phone(transport, caller=fresh_number())
    first = phone.dial()
    assert "999" in first.said[0].text and first.said[0].text.index("999") < 80
    turn = past_language_step(phone, first, "en", line)
    assert node(turn) == "main"
    for key in keys_to(line, svc.category, svc.id):
        turn = phone.press(key)
    assert turn.said[0].text.startswith(svc.title)
    phone = Phone(transport, caller=fresh_number())
    turn = past_language_step(phone, phone.dial(), "en", line)
    turn = phone.say(said)
    assert any(svc.title in h.text for h in turn.said), [h.text for h in turn.said]
    reply = send_text(transport, svc.keywords[0], sender=fresh_number())
    assert reply.startswith(svc.title + ":"), reply
    assert "999" in send_text(transport, "someone is hitting me now", sender=fresh_number())[:160]


def test_an_imported_line_can_be_read_through_another_line_s_api(riverside, tmp_path):
    """The paged API of another directory: here the imported line's own, through its test client."""
    app, _ = riverside
    client = app.test_client()

    def fetch(url):
        resp = client.get(url.replace("https://riverside.example.org", ""))
        assert resp.status_code == 200
        return resp.data

    docs = openreferral.read_source("https://riverside.example.org/openreferral", get=fetch)
    assert sorted(d["name"] for d in docs) == ["Riverside Food Bank", "Warm Spaces", "Youth Advice Drop-in"]
    line = app.extensions["ivr.line"]
    imported = openreferral.import_services(docs, line.catalogue)
    openreferral.write_catalogue(imported, tmp_path / "cat", ROOT / "catalogue" / "emergency")
    assert catalogue.load(tmp_path / "cat").services == line.catalogue.services


def test_the_cli_exports_and_imports(tmp_path, capsys):
    from ivr import cli
    assert cli.main(["export", "openreferral", str(tmp_path / "out")]) == 0
    assert cli.main(["import", "openreferral", str(DATA / "riverside"), "--into", str(tmp_path / "cat")]) == 0
    assert "3 services in 2 categories" in capsys.readouterr().out
    shutil.rmtree(tmp_path / "cat")
