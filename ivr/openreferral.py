"""The catalogue as Open Referral UK (HSDS 3.0) documents, and Open Referral data as a catalogue.

Pure functions: no Flask, no I/O except `read_source` and `write_catalogue`. The web
blueprint (`openreferral_web`) and `ivr-line export/import openreferral` share them.

Export: every service gets a UUID made from its catalogue id (uuid5 in a fixed namespace),
so it never changes between releases. Numbers, URLs and addresses come only from
contacts.yaml. The UK profile (at the commit kept in tests/data/openreferral) leaves phones
and language names out of a service; they are sent in the HSDS 3.0 core shape (`phones`,
`languages[].name/code`), which the profile's schemas allow. Two extensions, which a reader
may ignore: `x_translations` (names and descriptions in the line's other languages) and
`x_ivr_line` (the line's own fields: spoken text, keywords, contacts with hours), so an
export imported again gives the same services.

Import: status active only; a record without a usable name, description or way to reach
it is refused with a message naming the service and the field. Nothing is invented: a
number, URL or address is used as given, or not at all.
"""
from __future__ import annotations

import json
import re
import shutil
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode, urljoin

import phonenumbers
import yaml

from .catalogue import Catalogue, Service

HSDS_VERSION = "3.0"
PROFILE_URL = "https://github.com/OpenReferralUK/uk-profile"
OPENAPI_URL = "https://github.com/OpenReferralUK/uk-profile/blob/main/schema/openapi.json"
# Fixed for ever: every UUID the line publishes is uuid5(NAMESPACE, "<kind>:<catalogue id>").
NAMESPACE = uuid.UUID("6f0c2a52-5b3e-5d7e-9a43-1c2f7e0b9d11")
LINE_CONTACTS = ("emergency", "non-emergency", "text-relay")   # the line's own, not a service's


@dataclass(frozen=True)
class Publisher:
    """Who runs the line and where: the organization of services no partner delivers."""
    name: str = "Northamptonshire Police"
    description: str = "The police force for Northamptonshire, which runs this line."
    website_contact: str = "force-website"    # a contacts.yaml id, or "" for none
    area: str = "Northamptonshire"


def uid(kind: str, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


def slug(text: str, limit: int = 50) -> str:
    """A catalogue id from a name: lowercase-kebab, ASCII."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower().replace("&", " and "))
    out = "-".join(words)[:limit].strip("-")
    return out or "service"


def timestamp(when: float) -> str:
    return datetime.fromtimestamp(when, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def catalogue_modified(directory: Path) -> str:
    """When the catalogue last changed: the newest of its YAML files."""
    files = [Path(directory) / "contacts.yaml", Path(directory) / "categories.yaml",
             *sorted((Path(directory) / "services").glob("*.yaml"))]
    return timestamp(max(p.stat().st_mtime for p in files if p.exists()))


# --- Export ----------------------------------------------------------------------------

def taxonomy(cat: Catalogue) -> dict:
    """The line's categories, as a taxonomy of its own."""
    return {"id": uid("taxonomy", "categories"), "name": "ivr-line categories",
            "description": "The categories of the line's menu, in the order a caller hears them.",
            "version": "1", "taxonomy_terms": [taxonomy_term(cat, c.id) for c in cat.categories]}


def taxonomy_term(cat: Catalogue, category_id: str) -> dict:
    c = cat.category(category_id)
    return {"id": uid("taxonomy_term", c.id), "name": c.title, "description": c.title,
            "taxonomy": "ivr-line categories", "taxonomy_id": uid("taxonomy", "categories"),
            "term": c.id}


def organization(cat: Catalogue, svc: Service, publisher: Publisher) -> dict:
    """The partner the guide names (the first contact, when it is another body's phone
    line: Action Fraud, Crimestoppers), else the publisher."""
    first = svc.contacts[0].contact
    if first.kind == "phone" and first.id not in LINE_CONTACTS:
        name = first.label.split(",")[0].strip()
        return {"id": uid("organization", first.id), "name": name,
                "description": f"{name}, to which {publisher.name} signposts."}
    org = {"id": uid("organization", slug(publisher.name)), "name": publisher.name,
           "description": publisher.description}
    site = cat.contacts.get(publisher.website_contact)
    if site is not None and site.url:
        org["website"] = site.url
    return org


def _first(svc: Service, kind: str):
    return next((u.contact for u in svc.contacts if u.contact.kind == kind), None)


def service_list_item(cat: Catalogue, svc: Service, modified: str, publisher: Publisher) -> dict:
    """The one-to-one fields of a service (`/services` contents; service_list.json)."""
    org = organization(cat, svc, publisher)
    doc = {"id": uid("service", svc.id), "organization_id": org["id"], "name": svc.title,
           "description": svc.summary, "status": "active", "last_modified": modified}
    website, email = _first(svc, "website"), _first(svc, "email")
    if website:
        doc["url"] = website.url
    if email:
        doc["email"] = email.address
    if svc.min_age is not None:
        doc["minimum_age"] = svc.min_age
    if svc.max_age is not None:
        doc["maximum_age"] = svc.max_age
    doc["organization"] = org
    return doc


def service_document(line, svc: Service, modified: str, publisher: Publisher = Publisher()) -> dict:
    """One service, fully nested (`/services/{id}`; service.json)."""
    cat = line.catalogue
    doc = service_list_item(cat, svc, modified, publisher)
    sid = doc["id"]
    doc["phones"] = [{"id": uid("phone", f"{svc.id}:{u.contact.id}"), "service_id": sid,
                      "number": u.contact.number, "type": "textphone" if u.contact.id == "text-relay" else "voice",
                      "description": u.contact.label}
                     for u in svc.contacts if u.contact.kind == "phone"]
    doc["schedules"] = [{"id": uid("schedule", f"{svc.id}:{u.contact.id}"), "service_id": sid,
                         "opens_at": u.hours.opens, "closes_at": u.hours.closes,
                         "description": f"Hours of {u.contact.label}"}
                        for u in svc.contacts if u.hours]
    doc["languages"] = [{"id": uid("language", f"{svc.id}:{code}"), "service_id": sid,
                         "name": line.languages[code].english, "code": code} for code in line.offered]
    doc["service_areas"] = [{"id": uid("service_area", f"{svc.id}:{slug(publisher.area)}"),
                             "service_id": sid, "name": publisher.area, "service_area": publisher.area}]
    term = taxonomy_term(cat, svc.category)
    doc["attributes"] = [{"id": uid("attribute", svc.id), "link_id": sid, "link_type": "service",
                          "taxonomy_term_id": term["id"], "taxonomy_term": term}]
    translations = []
    for code in line.offered[1:]:
        texts = line.texts[code]
        name, text = texts.field(svc.id, "title", svc.title), texts.field(svc.id, "summary", svc.summary)
        if (name, text) != (svc.title, svc.summary):
            translations.append({"language": code, "name": name, "description": text})
    doc["x_translations"] = translations
    doc["x_ivr_line"] = {
        "id": svc.id, "category": svc.category, "spoken": svc.spoken, "keywords": list(svc.keywords),
        "synonyms": list(svc.synonyms), "facts": list(svc.facts),
        "contacts": [_contact_row(u) for u in svc.contacts]}
    return doc


def _contact_row(use) -> dict:
    c = use.contact
    row = {"ref": c.id, "kind": c.kind, "label": c.label}
    row.update({k: getattr(c, k) for k in ("number", "url", "address") if getattr(c, k)})
    if use.hours:
        row["hours"] = {"opens": use.hours.opens, "closes": use.hours.closes}
    return row


def in_menu_order(cat: Catalogue) -> list[Service]:
    """Services as a caller meets them: category by category."""
    return [s for c in cat.categories for s in c.services]


def api_info() -> dict:
    return {"version": HSDS_VERSION, "profile": PROFILE_URL, "openapi_url": OPENAPI_URL}


def page(items: list, number: int, per_page: int) -> dict:
    """A page of results, as the profile's OpenAPI `Page` describes it."""
    total = len(items)
    pages = max(1, -(-total // per_page))
    contents = items[(number - 1) * per_page:number * per_page]
    return {"total_items": total, "total_pages": pages, "page_number": number, "size": len(contents),
            "first_page": number == 1, "last_page": number >= pages, "empty": not contents,
            "contents": contents}


def search(line, text: str) -> list[str]:
    """Service ids for a search, ranked with the line's own matcher: the service (or the
    category's services) it matches, then those an everyday word leads to, then those
    whose words contain every word searched."""
    from .text import fold
    found: list[str] = []
    best = line.match("en", text, {"service", "category"})
    if best is not None:
        if best.target.kind == "service":
            found.append(best.target.id)
        else:
            found += [s.id for s in line.catalogue.category(best.target.id).services]
    found += line.topic("en", text)
    words = fold(text).split()
    for svc in in_menu_order(line.catalogue):
        hay = fold(" ".join((svc.title, svc.summary, svc.spoken, *svc.keywords, *svc.synonyms)))
        if words and all(w in hay for w in words):
            found.append(svc.id)
    return list(dict.fromkeys(found))


def export(line, directory: Path, modified: str, publisher: Publisher = Publisher()) -> list[Path]:
    """Write what the API serves as files: the API's root, every service fully nested
    (services/<uuid>.json), the list of services, the taxonomy and its terms."""
    cat, out = line.catalogue, Path(directory)
    (out / "services").mkdir(parents=True, exist_ok=True)
    written = []

    def put(path: Path, doc) -> None:
        path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)

    put(out / "index.json", api_info())
    for svc in in_menu_order(cat):
        put(out / "services" / f"{uid('service', svc.id)}.json", service_document(line, svc, modified, publisher))
    items = [service_list_item(cat, s, modified, publisher) for s in in_menu_order(cat)]
    put(out / "services.json", page(items, 1, max(1, len(items))))
    put(out / "taxonomies.json", page([taxonomy(cat)], 1, 1))
    terms = [taxonomy_term(cat, c.id) for c in cat.categories]
    put(out / "taxonomy_terms.json", page(terms, 1, max(1, len(terms))))
    return written


# --- Import ----------------------------------------------------------------------------

class Refused(ValueError):
    """A record the line cannot use: the message names the service and the field."""


@dataclass
class Imported:
    categories: dict[str, dict] = field(default_factory=dict)     # id -> categories.yaml row
    contacts: dict[str, dict] = field(default_factory=dict)       # id -> contacts.yaml entry
    services: list[dict] = field(default_factory=list)            # services.yaml rows
    refused: list[str] = field(default_factory=list)


def _services_in(doc) -> list[dict]:
    """Services in a document: one service, a list, or a page (`contents`). A service
    has a status (the schema requires one); a taxonomy term, found in the same folder, has not."""
    if isinstance(doc, dict) and isinstance(doc.get("contents"), list):
        doc = doc["contents"]
    rows = doc if isinstance(doc, list) else [doc]
    return [d for d in rows if isinstance(d, dict) and {"id", "name", "status"} <= d.keys()]


def read_source(source: str, get=None) -> list[dict]:
    """Services from a file, a directory of files, or the paged API of a directory
    (`get(url) -> bytes`, default urllib; each service is then fetched fully nested)."""
    if re.match(r"https?://", source):
        return _read_api(source.rstrip("/"), get or _http_get)
    path = Path(source)
    # Shallowest first: a folder's list of services (in menu order) before the services.
    files = sorted(path.rglob("*.json"), key=lambda p: (len(p.parts), p)) if path.is_dir() else [path]
    by_id: dict[str, dict] = {}
    for f in files:
        for svc in _services_in(json.loads(f.read_text(encoding="utf-8"))):
            # A fully nested document wins over a list entry of the same service.
            if svc.get("id") not in by_id or len(svc) > len(by_id[svc.get("id")]):
                by_id[svc.get("id")] = svc
    return list(by_id.values())


def _http_get(url: str) -> bytes:
    from urllib.request import Request, urlopen
    with urlopen(Request(url, headers={"Accept": "application/json"}), timeout=30) as resp:  # noqa: S310
        return resp.read()


def _read_api(base: str, get) -> list[dict]:
    out, number = [], 1
    while True:
        listing = json.loads(get(f"{base}/services?" + urlencode({"page": number, "per_page": 50})))
        for item in listing.get("contents", []):
            out.append(json.loads(get(urljoin(base + "/", f"services/{item['id']}"))))
        if listing.get("last_page", True) or not listing.get("contents"):
            return out
        number += 1


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", " ".join(text.split())) if s.strip()]


def shorten(text: str, limit: int, by_words: bool = False) -> str:
    """Whole sentences that fit (characters, or words for the phone); at least the first."""
    kept, size = [], 0
    for s in _sentences(text):
        n = len(s.split()) if by_words else len(s) + 1
        if kept and size + n > limit:
            break
        kept.append(s)
        size += n
    out = " ".join(kept)
    if not by_words and len(out) > limit:
        out = out[:limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return out


def _number(raw: str, name: str) -> str:
    """A UK number as the catalogue writes it (digits and spaces), or refused."""
    try:
        parsed = phonenumbers.parse(raw, "GB")
    except phonenumbers.NumberParseException:
        parsed = None
    digits = re.sub(r"\D", "", raw)
    if parsed is not None and phonenumbers.is_possible_number(parsed) and parsed.country_code == 44:
        written = " ".join(raw.split())
        if re.fullmatch(r"0[0-9 ]*[0-9]", written):
            return written              # as the directory writes it (grouping helps a listener)
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    if raw.strip().isdigit() and 3 <= len(digits) <= 6:      # short codes: 101, 111, 18000
        return digits
    raise Refused(f"service {name!r}: field phones.number: {raw!r} is not a UK phone number")


def _age(svc: dict, key: str, name: str):
    value = svc.get(key)
    if value is None:
        return None
    if not isinstance(value, (int, float)) or value != int(value) or not 0 <= value <= 120:
        raise Refused(f"service {name!r}: field {key}: {value!r} is not an age in whole years")
    return int(value)


def _contact(imported: Imported, entry: dict) -> str:
    """The id of a contacts.yaml entry, shared by every service giving the same one."""
    for cid, existing in imported.contacts.items():
        if all(existing.get(k) == entry.get(k) for k in ("kind", "number", "url", "address")):
            return cid
    base = slug(f"{entry['label']} {entry['kind']}", 40)
    cid, n = base, 2
    while cid in imported.contacts:
        cid, n = f"{base}-{n}", n + 1
    imported.contacts[cid] = entry
    return cid


def _own_contacts(imported: Imported, svc: dict, name: str) -> list[dict]:
    org = (svc.get("organization") or {}).get("name") or name
    rows = []
    phones = list(svc.get("phones") or [])
    for c in svc.get("contacts") or []:
        phones += c.get("phones") or []
    for p in phones:
        if p.get("number"):
            label = (p.get("description") or org).strip()
            rows.append({"kind": "phone", "label": label, "number": _number(str(p["number"]), name)})
    if svc.get("url"):
        if not str(svc["url"]).startswith("https://"):
            raise Refused(f"service {name!r}: field url: {svc['url']!r} is not an https address")
        rows.append({"kind": "website", "label": f"{org} website", "url": svc["url"]})
    if svc.get("email"):
        if not re.fullmatch(r"[^@ ]+@[^@ ]+", svc["email"]):
            raise Refused(f"service {name!r}: field email: {svc['email']!r} is not an email address")
        rows.append({"kind": "email", "label": org, "address": svc["email"]})
    if not rows:
        raise Refused(f"service {name!r}: field phones, url, email: no phone number, website or "
                      "email address to give a caller")
    return [{"ref": _contact(imported, r)} for r in rows]


def _category(imported: Imported, svc: dict) -> str:
    terms = [a["taxonomy_term"] for a in svc.get("attributes") or []
             if isinstance(a.get("taxonomy_term"), dict) and a["taxonomy_term"].get("name")]
    if not terms:
        row = {"id": "other", "title": "Other services", "keywords": ["other services"]}
    else:
        t = terms[0]
        row = {"id": slug(t.get("term") or t["name"]), "title": t["name"].strip(),
               "keywords": [t["name"].strip().lower()]}
    imported.categories.setdefault(row["id"], row)
    return row["id"]


def service_row(imported: Imported, svc: dict) -> dict:
    """One Open Referral service as a catalogue entry (raises Refused)."""
    name = " ".join(str(svc.get("name") or "").split())
    if not name:
        raise Refused(f"service {svc.get('id')!r}: field name: missing")
    if svc.get("status", "active") != "active":
        raise Refused(f"service {name!r}: field status: {svc['status']!r}, not active")
    if len(name) > 60:
        raise Refused(f"service {name!r}: field name: longer than 60 characters, too long for a menu")
    own = svc.get("x_ivr_line")
    if isinstance(own, dict):             # exported by an ivr-line: its own fields, as they were
        return _own_row(imported, svc, own, name)
    description = " ".join(str(svc.get("description") or "").split())
    if not description:
        raise Refused(f"service {name!r}: field description: missing")
    row = {"id": slug(name), "category": _category(imported, svc), "title": name,
           "summary": shorten(description, 240), "spoken": shorten(description, 60, by_words=True)}
    plain = " ".join(re.findall(r"[\w']+", name.lower().replace("&", " and ")))
    plain = re.sub(r"^the ", "", plain)
    row["keywords"] = list(dict.fromkeys([name.lower(), plain]))
    if len(row["keywords"]) < 2:
        row["keywords"].append(f"{plain} service")
    terms = [a["taxonomy_term"]["name"].strip().lower() for a in svc.get("attributes") or []
             if isinstance(a.get("taxonomy_term"), dict) and a["taxonomy_term"].get("name")]
    if terms:
        row["synonyms"] = list(dict.fromkeys(terms))
    row["contacts"] = _own_contacts(imported, svc, name)
    ages = {k: v for k, v in (("min", _age(svc, "minimum_age", name)), ("max", _age(svc, "maximum_age", name)))
            if v is not None}
    if ages:
        row["ages"] = ages
    return row


def _own_row(imported: Imported, svc: dict, own: dict, name: str) -> dict:
    row = {"id": own["id"], "category": own["category"], "title": name, "summary": svc.get("description", ""),
           "spoken": own["spoken"], "keywords": own["keywords"]}
    for key in ("synonyms", "facts"):
        if own.get(key):
            row[key] = own[key]
    terms = [a["taxonomy_term"] for a in svc.get("attributes") or [] if isinstance(a.get("taxonomy_term"), dict)]
    term = next((t for t in terms if t.get("term") == own["category"]), None)
    if term is None:
        raise Refused(f"service {name!r}: field attributes: no taxonomy term for category {own['category']!r}")
    imported.categories.setdefault(own["category"], {"id": own["category"], "title": term["name"],
                                                     "keywords": []})
    uses = []
    for c in own["contacts"]:
        entry = {k: c[k] for k in ("kind", "label", "number", "url", "address") if k in c}
        imported.contacts.setdefault(c["ref"], entry)
        uses.append({"ref": c["ref"], **({"hours": c["hours"]} if "hours" in c else {})})
    row["contacts"] = uses
    ages = {k: svc[f] for k, f in (("min", "minimum_age"), ("max", "maximum_age")) if f in svc}
    if ages:
        row["ages"] = ages
    return row


def import_services(docs: list[dict], base: Catalogue) -> Imported:
    """Catalogue rows from Open Referral services; the line's own numbers (999, 101, the
    text relay) come from the base catalogue."""
    imported = Imported()
    for cid in LINE_CONTACTS:
        c = base.contacts[cid]
        imported.contacts[cid] = {"kind": c.kind, "label": c.label, "number": c.number}
    ids: set[str] = set()
    for svc in docs:
        try:
            row = service_row(imported, svc)
        except Refused as exc:
            imported.refused.append(str(exc))
            continue
        if row["id"] in ids:
            imported.refused.append(f"service {row['title']!r}: field name: a second service with this name")
            continue
        ids.add(row["id"])
        imported.services.append(row)
    return imported


def write_catalogue(imported: Imported, directory: Path, emergency_from: Path) -> None:
    """contacts.yaml, categories.yaml and services/<category>.yaml, as `catalogue.load`
    reads them; the danger word lists and model are copied from the line's catalogue."""
    out = Path(directory)
    (out / "services").mkdir(parents=True, exist_ok=True)

    def dump(path: Path, data) -> None:
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8")

    for old in (out / "services").glob("*.yaml"):
        old.unlink()
    dump(out / "contacts.yaml", imported.contacts)
    used = [c for c in imported.categories.values() if any(s["category"] == c["id"] for s in imported.services)]
    for c in used:
        if not c["keywords"]:
            c["keywords"] = [c["title"].lower()]
    dump(out / "categories.yaml", used)
    for c in used:
        dump(out / "services" / f"{c['id']}.yaml", [s for s in imported.services if s["category"] == c["id"]])
    if not (out / "emergency").exists():
        shutil.copytree(emergency_from, out / "emergency")
