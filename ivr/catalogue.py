"""The catalogue of services: loaded from YAML once, validated, and indexed for menus.

Everything the line says about a service comes from here; there is no per-service code.
A file that breaks the schema stops the app with a message naming the file, the entry
and the field, so a bad edit never reaches a caller.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jsonschema
import yaml

ID = {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"}
TEXT = {"type": "string", "minLength": 1}
WORDS = {"type": "array", "items": TEXT}
HOUR = {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}

CONTACT_SCHEMA = {
    "type": "object",
    "required": ["kind", "label"],
    "additionalProperties": False,
    "properties": {
        "kind": {"enum": ["phone", "website", "email", "in_person", "app"]},
        "label": TEXT,
        "number": {"type": "string", "pattern": "^[0-9][0-9 ]*[0-9]$"},
        "url": {"type": "string", "pattern": "^https://"},
        "address": {"type": "string", "pattern": "^[^@ ]+@[^@ ]+$"},
    },
    "allOf": [
        {"if": {"properties": {"kind": {"const": "phone"}}}, "then": {"required": ["number"]}},
        {"if": {"properties": {"kind": {"const": "website"}}}, "then": {"required": ["url"]}},
        {"if": {"properties": {"kind": {"const": "email"}}}, "then": {"required": ["address"]}},
    ],
}

CATEGORY_SCHEMA = {
    "type": "object",
    "required": ["id", "title", "keywords"],
    "additionalProperties": False,
    "properties": {"id": ID, "title": TEXT, "keywords": WORDS},
}

SERVICE_SCHEMA = {
    "type": "object",
    "required": ["id", "category", "title", "summary", "spoken", "keywords", "contacts"],
    "additionalProperties": False,
    "properties": {
        "id": ID,
        "category": ID,
        "title": {"type": "string", "minLength": 1, "maxLength": 60},
        "summary": {"type": "string", "minLength": 1, "maxLength": 240},
        "spoken": TEXT,
        "keywords": {"type": "array", "items": TEXT, "minItems": 2},
        "synonyms": WORDS,
        "contacts": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["ref"],
                "additionalProperties": False,
                "properties": {
                    "ref": ID,
                    "hours": {
                        "type": "object",
                        "required": ["opens", "closes"],
                        "additionalProperties": False,
                        "properties": {"opens": HOUR, "closes": HOUR},
                    },
                },
            },
        },
        "ages": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": False,
            "properties": {
                "min": {"type": "integer", "minimum": 0, "maximum": 120},
                "max": {"type": "integer", "minimum": 0, "maximum": 120},
            },
        },
        "facts": WORDS,
    },
}

MAX_PER_CATEGORY = 10  # two pages of five: any service within four key presses


class CatalogueError(ValueError):
    """A catalogue file is wrong; the message names the file, the entry and the field."""


@dataclass(frozen=True)
class Contact:
    id: str
    kind: str
    label: str
    number: str | None = None
    url: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class Hours:
    opens: str
    closes: str


@dataclass(frozen=True)
class ContactUse:
    contact: Contact
    hours: Hours | None = None


@dataclass(frozen=True)
class Service:
    id: str
    category: str
    title: str
    summary: str
    spoken: str
    keywords: tuple[str, ...]
    synonyms: tuple[str, ...]
    contacts: tuple[ContactUse, ...]
    min_age: int | None = None
    max_age: int | None = None
    facts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Category:
    id: str
    title: str
    keywords: tuple[str, ...]
    services: tuple[Service, ...] = ()


@dataclass
class Catalogue:
    categories: tuple[Category, ...]
    contacts: dict[str, Contact]
    services: dict[str, Service] = field(default_factory=dict)
    clashes: list[str] = field(default_factory=list)

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml: ten times faster


@lru_cache(maxsize=256)
def _parse(path: Path, mtime_ns: int):
    with path.open("rb") as fh:
        return yaml.load(fh, Loader=_Loader)  # noqa: S506 - a safe loader


def read_yaml(path: Path):
    """Parse a YAML file once per change: start-up reads each file from several places."""
    path = Path(path)
    return copy.deepcopy(_parse(path, path.stat().st_mtime_ns))


def clear_cache() -> None:
    _parse.cache_clear()


def _load_yaml(path: Path):
    try:
        return read_yaml(path)
    except FileNotFoundError:
        raise CatalogueError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path}: not valid YAML: {exc}") from None


def _check(path: Path, where: str, item, schema) -> None:
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(item), key=str)
    if errors:
        err = errors[0]
        fld = ".".join(str(p) for p in err.absolute_path) or "(entry)"
        raise CatalogueError(f"{path.name}: {where}: field {fld}: {err.message}")


def _where(index: int, item) -> str:
    name = item.get("id") if isinstance(item, dict) else None
    return f"entry {index + 1} ({name})" if name else f"entry {index + 1}"


def load(directory: Path) -> Catalogue:
    """Load and validate `contacts.yaml`, `categories.yaml` and `services/*.yaml`."""
    directory = Path(directory)
    contacts_path = directory / "contacts.yaml"
    raw_contacts = _load_yaml(contacts_path)
    if not isinstance(raw_contacts, dict):
        raise CatalogueError(f"{contacts_path.name}: expected a mapping of contact id to contact")
    contacts = {}
    for cid, raw in raw_contacts.items():
        _check(contacts_path, f"contact {cid}", raw, CONTACT_SCHEMA)
        contacts[cid] = Contact(id=cid, **raw)

    categories_path = directory / "categories.yaml"
    raw_categories = _load_yaml(categories_path)
    if not isinstance(raw_categories, list) or not raw_categories:
        raise CatalogueError(f"{categories_path.name}: expected a list of categories")
    order: dict[str, list[Service]] = {}
    category_rows = []
    for i, raw in enumerate(raw_categories):
        _check(categories_path, _where(i, raw), raw, CATEGORY_SCHEMA)
        if raw["id"] in order:
            raise CatalogueError(f"{categories_path.name}: {_where(i, raw)}: field id: duplicate id")
        order[raw["id"]] = []
        category_rows.append(raw)

    services: dict[str, Service] = {}
    service_files = sorted((directory / "services").glob("*.yaml"))
    if not service_files:
        raise CatalogueError(f"{directory / 'services'}: no service files")
    for path in service_files:
        rows = _load_yaml(path) or []
        if not isinstance(rows, list):
            raise CatalogueError(f"{path.name}: expected a list of services")
        for i, raw in enumerate(rows):
            where = _where(i, raw)
            _check(path, where, raw, SERVICE_SCHEMA)
            if raw["id"] in services:
                raise CatalogueError(f"{path.name}: {where}: field id: duplicate id {raw['id']!r}")
            if raw["category"] not in order:
                raise CatalogueError(f"{path.name}: {where}: field category: unknown category {raw['category']!r}")
            uses = []
            for j, use in enumerate(raw["contacts"]):
                if use["ref"] not in contacts:
                    raise CatalogueError(
                        f"{path.name}: {where}: field contacts.{j}.ref: unknown contact {use['ref']!r}")
                hours = Hours(**use["hours"]) if "hours" in use else None
                uses.append(ContactUse(contacts[use["ref"]], hours))
            ages = raw.get("ages", {})
            if "min" in ages and "max" in ages and ages["min"] > ages["max"]:
                raise CatalogueError(f"{path.name}: {where}: field ages: min is above max")
            service = Service(
                id=raw["id"], category=raw["category"], title=raw["title"].strip(),
                summary=raw["summary"].strip(), spoken=raw["spoken"].strip(),
                keywords=tuple(k.strip().lower() for k in raw["keywords"]),
                synonyms=tuple(s.strip().lower() for s in raw.get("synonyms", [])),
                contacts=tuple(uses), min_age=ages.get("min"), max_age=ages.get("max"),
                facts=tuple(f.strip() for f in raw.get("facts", [])),
            )
            services[service.id] = service
            order[service.category].append(service)

    categories = []
    for raw in category_rows:
        members = order[raw["id"]]
        if not members:
            raise CatalogueError(f"{categories_path.name}: category {raw['id']}: has no services")
        if len(members) > MAX_PER_CATEGORY:
            raise CatalogueError(
                f"{categories_path.name}: category {raw['id']}: {len(members)} services, "
                f"at most {MAX_PER_CATEGORY} fit in two pages of the menu")
        categories.append(Category(raw["id"], raw["title"].strip(),
                                   tuple(k.strip().lower() for k in raw["keywords"]), tuple(members)))
    catalogue = Catalogue(tuple(categories), contacts, services)
    catalogue.clashes = keyword_clashes(catalogue)
    return catalogue


def keyword_clashes(catalogue: Catalogue) -> list[str]:
    """Keywords claimed by more than one service or category: reported, never resolved."""
    owners: dict[str, list[str]] = {}
    for cat in catalogue.categories:
        for word in cat.keywords:
            owners.setdefault(word, []).append(f"category {cat.id}")
    for svc in catalogue.services.values():
        for word in svc.keywords:
            owners.setdefault(word, []).append(svc.id)
    return [f"keyword {word!r} is claimed by {', '.join(who)}"
            for word, who in sorted(owners.items()) if len(who) > 1]
