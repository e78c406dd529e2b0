"""The bench's privacy scan finds what it looks for: a number or a message in Redis or a
log, and a key without a TTL (on the real Redis the tests use)."""
from __future__ import annotations

from bench.privacy import Used, scan

from .conftest import fresh_number


def test_the_scan_finds_numbers_messages_and_keys_without_ttl(store, tmp_path):
    number = fresh_number()
    used = Used()
    used.add({"From": number, "Body": "my neighbour's shed was broken into last night"})
    used.add({"From": fresh_number(), "Body": "MENU"})        # the line's own word: left out
    log = tmp_path / "app.log"
    log.write_text("INFO ivr.web: answered\n")
    client, key = store.client, f"ivr:test:{fresh_number()}"
    try:
        clean = scan(client, [log], used)
        assert clean["found"] == 0 and clean["bodies_searched"] == 1
        assert clean["bodies_left_out_as_the_lines_own_words"] == 1

        log.write_text(f"DEBUG x: from 0{number[3:]}\nINFO y: body=my%20neighbour%27s%20shed"
                       f"%20was%20broken%20into%20last%20night\n")
        client.set(key, "My neighbour's shed was broken into last night")   # and no TTL
        found = scan(client, [log], used)
        assert {(f["what"], f["where"]) for f in found["found_examples"]} >= {
            ("phone number", "app.log:1"), ("message body", "app.log:2"),
            ("message body", f"value of {key}")}
        assert key in found["keys_without_ttl_examples"] and not found["clean"]
    finally:
        client.delete(key)
