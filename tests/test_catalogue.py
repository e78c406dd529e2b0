"""The catalogue: every service in the guide, valid, facts only, numbers written once."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from ivr import catalogue, config

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "catalogue"
GUIDE = ROOT.parent / "shared" / "seed" / "service-guide.txt"

# Every service heading of the force's service guide, and the entry that carries it.
GUIDE_SERVICES = {
    "FINGERPRINTS": "fingerprints", "LIVE CHAT": "live-chat", "ONLINE NOTIFICATION": "online-notification",
    "NON-ENGLISH 999": "non-english-999", "POLICE UK APP": "police-uk-app", "SAR FORM": "sar-form",
    "999 BSL AND SIGN VIDEO": "bsl-999", "Northamptonshire Talking": "northamptonshire-talking",
    "Advice": "force-website", "Fraud": "action-fraud", "Call blockers": "call-blockers",
    "Retail Crime Team": "retail-crime-team", "Firearms and Explosives Licensing": "firearms-licensing",
    "Voice": "voice", "Emergency Service Cadets": "emergency-service-cadets",
    "Police Support Volunteers": "police-support-volunteers", "Street Watch": "street-watch",
    "Volunteers on Horseback": "volunteers-on-horseback", "Beat Bus": "beat-bus",
    "County Schools Challenge": "county-schools-challenge", "PLR Scheme": "plr-scheme",
    "Pub Watch": "pub-watch", "Rural/Wildlife Crime Team": "rural-crime-team",
    "Independent Advisory Group": "independent-advisory-group", "Special Constable": "special-constable",
    "Street Safe": "street-safe", "Keep Safe Scheme": "keep-safe-card", "Bike Marking": "bike-marking",
    "Burglary- Operation Crooked": "operation-crooked", "Knife Bins": "knife-bins", "Bleed Kits": "bleed-kits",
    "SNOvan": "snovan", "Early Intervention and ACE Support": "early-intervention-ace",
    "Arson Task Force (ATF)": "arson-task-force", "Bikesafe": "bikesafe", "CarKraft": "carkraft",
    "Operation Close Pass": "operation-close-pass", "Horse Road Safety": "horse-road-safety",
    "My Pink Trainers": "my-pink-trainers", "Operation Snap": "operation-snap",
    "Community Speed Watch": "community-speed-watch", "Nuisance/Abandoned Animals": "nuisance-abandoned-animals",
    "Banned Dogs": "banned-dogs", "Animal Crime": "animal-crime", "Wildlife Crime": "wildlife-crime",
    "Operation Kayak": "operation-kayak", "Operation Kalon": "operation-kalon",
    "Self Defence Lessons": "self-defence-lessons", "Female Genital Mutilation (FGM)": "fgm",
    "Sarah's Law": "sarahs-law", "Operation Makesafe": "operation-makesafe",
    "Adult/Elder Abuse": "adult-elder-abuse", "Operation Satin": "operation-satin",
    "Safe Haven Scheme": "safe-haven", "Herbert Protocol": "herbert-protocol",
    "Philomena Protocol": "philomena-protocol", "Clare's Law": "clares-law",
    "Forced Marriage": "forced-marriage", "Honour- Based Abuse": "honour-based-abuse",
}


@pytest.fixture(scope="module")
def cat():
    return catalogue.load(CATALOGUE)


def test_every_service_of_the_guide_is_one_entry(cat):
    if GUIDE.exists():
        guide = GUIDE.read_text(encoding="utf-8")
        for heading in GUIDE_SERVICES:
            assert heading in guide, f"{heading!r} is not a heading of the guide"
    assert set(GUIDE_SERVICES.values()) <= set(cat.services)
    extra = set(cat.services) - set(GUIDE_SERVICES.values())
    assert extra == {"deaf-access", "fraud-prevention-sessions"}, extra


def test_categories_mirror_the_guide_and_fit_the_menu(cat):
    assert [c.id for c in cat.categories] == [
        "reporting", "fraud", "safety", "roads", "animals", "women-girls",
        "children-vulnerable", "domestic-abuse", "getting-involved", "victim-support"]
    assert all(1 <= len(c.services) <= 10 for c in cat.categories)


def test_no_keyword_is_claimed_twice(cat):
    assert cat.clashes == []


def test_numbers_and_links_are_written_once_in_contacts():
    contacts = (CATALOGUE / "contacts.yaml").read_text()
    for path in list((CATALOGUE / "services").glob("*.yaml")) + [CATALOGUE / "categories.yaml"]:
        text = path.read_text()
        assert "http" not in text and "www." not in text, path.name
        assert not re.search(r"\b0\d{3} ?\d{3} ?\d{3,4}\b", text), path.name
        assert "@" not in text, path.name
    assert contacts.count('"999"') == 1 and contacts.count('"101"') == 1


def test_the_only_website_is_the_force_root_given_by_the_guide(cat):
    urls = {c.url for c in cat.contacts.values() if c.url}
    assert urls == {"https://www.northants.police.uk/"}


def test_facts_residents_need_are_kept(cat):
    s = cat.services
    assert "no time limit" in " ".join(s["operation-kalon"].facts + (s["operation-kalon"].summary,)).lower()
    assert "1.5 metres" in " ".join(s["operation-close-pass"].facts) + s["operation-close-pass"].spoken
    assert (s["emergency-service-cadets"].min_age, s["emergency-service-cadets"].max_age) == (13, 18)
    assert s["clares-law"].min_age == 16
    hours = [u.hours for u in s["live-chat"].contacts if u.hours]
    assert hours and (hours[0].opens, hours[0].closes) == ("08:00", "19:00")


def broken_copy(tmp_path, edit):
    target = tmp_path / "catalogue"
    shutil.copytree(CATALOGUE, target)
    edit(target)
    return target


def edit_entry(field, value, file="safety.yaml", index=1):
    def edit(root):
        path = root / "services" / file
        rows = yaml.safe_load(path.read_text())
        if value is None:
            del rows[index][field]
        else:
            rows[index][field] = value
        path.write_text(yaml.safe_dump(rows))
    return edit


@pytest.mark.parametrize("edit, words", [
    (edit_entry("summary", None), ["safety.yaml", "keep-safe-card", "summary"]),
    (edit_entry("keywords", ["only one"]), ["safety.yaml", "keep-safe-card", "keywords"]),
    (edit_entry("category", "nowhere"), ["safety.yaml", "keep-safe-card", "category"]),
    (edit_entry("contacts", [{"ref": "made-up-number"}]), ["safety.yaml", "keep-safe-card", "contacts.0.ref"]),
    (edit_entry("ages", {"min": 18, "max": 13}), ["safety.yaml", "keep-safe-card", "ages"]),
    (edit_entry("colour", "blue"), ["safety.yaml", "keep-safe-card", "colour"]),
    (edit_entry("contacts", [{"ref": "force-website", "hours": {"opens": "8am", "closes": "19:00"}}]),
     ["safety.yaml", "keep-safe-card", "contacts.0.hours.opens"]),
])
def test_a_bad_file_fails_naming_the_file_the_entry_and_the_field(tmp_path, edit, words):
    with pytest.raises(catalogue.CatalogueError) as err:
        catalogue.load(broken_copy(tmp_path, edit))
    for word in words:
        assert word in str(err.value)


def test_invalid_yaml_names_the_file(tmp_path):
    def edit(root):
        (root / "services" / "roads.yaml").write_text("- id: [unclosed\n")
    with pytest.raises(catalogue.CatalogueError, match="roads.yaml"):
        catalogue.load(broken_copy(tmp_path, edit))


def test_keyword_clashes_are_reported_not_resolved(tmp_path):
    def edit(root):
        path = root / "services" / "roads.yaml"
        rows = yaml.safe_load(path.read_text())
        rows[0]["keywords"].append("fraud")
        path.write_text(yaml.safe_dump(rows))
    cat = catalogue.load(broken_copy(tmp_path, edit))
    assert any("'fraud'" in c and "action-fraud" in c and "bikesafe" in c for c in cat.clashes)


def test_the_app_refuses_to_start_on_a_bad_catalogue(tmp_path):
    from ivr import create_app
    bad = broken_copy(tmp_path, edit_entry("title", None))
    with pytest.raises(catalogue.CatalogueError, match="title"):
        create_app({"CATALOGUE_DIR": bad, "DATA_DIR": tmp_path / "data", "TWILIO_AUTH_TOKEN": "x"})


def test_configuration_points_at_the_shipped_catalogue():
    assert config.from_environment()["CATALOGUE_DIR"].resolve() == CATALOGUE.resolve()
