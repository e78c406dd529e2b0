"""How cost grows: a catalogue ten times the size, 100,000 sessions, start-up, matching.

The grown catalogue keeps every real entry where it was (so the same walks through the
menus reach the same services) and appends generated categories of ten services each
(the loader's limit per category), with made-up unique keywords and synonyms that
share everyday words ("report", "advice") the way real entries do, so both the exact
phrase index and the loose-word index grow.

A language is offered only while its translations are complete, so the generated
entries are also added to a copy of every `.po` (English text standing in for the
translation): the grown line speaks as many languages as the real one.
"""
from __future__ import annotations

import json
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

from ivr import catalogue as catalogue_mod

COMMON = ("report", "advice", "help", "problem", "support", "local", "online", "people",
          "safety", "service", "team", "scheme", "crime", "information", "community")
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]


def _pseudo_words(rng: random.Random, n: int, taken: set[str]) -> list[str]:
    out = []
    while len(out) < n:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randrange(2, 4)))
        if word not in taken:
            taken.add(word)
            out.append(word)
    return out


def grow_catalogue(source: Path, target: Path, factor: int = 10, seed: int = 10) -> dict:
    """Copy `source` to `target` with generated entries up to `factor` times the services."""
    shutil.copytree(source, target)
    real = catalogue_mod.load(source)
    per = catalogue_mod.MAX_PER_CATEGORY
    extra = len(real.services) * (factor - 1)
    n_categories = -(-extra // per)
    rng = random.Random(seed)
    taken = {w for s in real.services.values() for phrase in s.keywords + s.synonyms
             for w in phrase.split()}
    words = iter(_pseudo_words(rng, extra * 3 + n_categories * 2, taken))

    categories = yaml.safe_load((target / "categories.yaml").read_text(encoding="utf-8"))
    made = 0
    for c in range(n_categories):
        cid = f"generated-{c + 1:03d}"
        a, b = next(words), next(words)
        categories.append({"id": cid, "title": f"{a.title()} and {b} matters",
                           "keywords": [f"{a} matters", f"{b} matters"]})
        services = []
        for _ in range(min(per, extra - made)):
            made += 1
            w1, w2, w3 = next(words), next(words), next(words)
            common = rng.sample(COMMON, 3)
            services.append({
                "id": f"generated-service-{made:04d}", "category": cid,
                "title": f"{w1.title()} {w2} {common[0]}",
                "summary": f"Get {common[1]} about {w1} and {w2} from the {w3} {common[2]} team.",
                "spoken": f"The {w3} team gives {common[1]} about {w1} and {w2}. "
                          f"They can help people across the county.",
                "keywords": [w1, f"{w1} {w2}", w3],
                "synonyms": [f"{common[0]} a {w1} {common[1]}", f"{w2} {common[2]}",
                             f"{common[1]} on {w3}"],
                "contacts": [{"ref": "force-website"}]
                + ([{"ref": "non-emergency", "hours": {"opens": "08:00", "closes": "20:00"}}]
                   if rng.random() < 0.3 else []),
            })
        path = target / "services" / f"{cid}.yaml"
        path.write_text(yaml.safe_dump(services, sort_keys=False), encoding="utf-8")
    (target / "categories.yaml").write_text(yaml.safe_dump(categories, sort_keys=False),
                                            encoding="utf-8")
    return {"services": len(real.services) + made, "categories": len(categories),
            "real_services": len(real.services)}


def grow_locales(source: Path, target: Path, grown_catalogue: Path) -> int:
    """Copy the locales and add every generated message to each `.po`, then compile them."""
    import polib

    from ivr import i18n
    shutil.copytree(source, target)
    generated = []
    for path in [grown_catalogue / "categories.yaml",
                 *sorted((grown_catalogue / "services").glob("generated-*.yaml"))]:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        generated += [(ctx, msg) for ctx, msg, _ in i18n.catalogue_messages(path.name, data)]
    for po_path in target.glob(f"*/LC_MESSAGES/{i18n.DOMAIN}.po"):
        po = polib.pofile(str(po_path))
        known = {(e.msgctxt, e.msgid) for e in po}
        for ctx, msg in generated:
            if (ctx, msg) not in known:
                po.append(polib.POEntry(msgctxt=ctx, msgid=msg, msgstr=msg))
        po.save(str(po_path))
    i18n.compile_catalogues(target)
    return len(generated)


# --- sessions ------------------------------------------------------------------------

def prefill_sessions(client, n: int, call_ttl: int, sms_ttl: int, batch: int = 5000) -> list[str]:
    """`n` live sessions shaped like the app's: half calls in a menu, half SMS conversations.

    Keys are made by the app's own `Store` (hash-tagged, hashed numbers), values are the
    app's state documents, every key has the app's TTL. Returns the keys, to delete later.
    """
    from ivr.flow import CallState
    from ivr.sessions import Store
    from ivr.sms import SmsState
    store = Store(client, secrets.token_hex(16))
    call = json.dumps(CallState(node="category", category="fraud").to_json(), separators=(",", ":"))
    text = json.dumps(SmsState(listing="menu").to_json(), separators=(",", ":"))
    keys = []
    pipe = client.pipeline(transaction=False)
    for i in range(n):
        if i % 2:
            key = store.call_key(f"CAprefill{i:025d}")
            pipe.set(key, call, ex=call_ttl)
        else:
            key = store.sender_key(f"+4477{i:08d}")
            pipe.set(key, text, ex=sms_ttl)
        keys.append(key)
        if len(pipe) >= batch:
            pipe.execute()
    pipe.execute()
    return keys


def delete_keys(client, keys: list[str], batch: int = 5000) -> None:
    for i in range(0, len(keys), batch):
        client.unlink(*keys[i:i + batch])


# --- start-up --------------------------------------------------------------------------

STARTUP_PROBE = """
import json, resource, sys, time
t = time.time()
from ivr import create_app
create_app()
took = time.time() - t
heavy = [m for m in ("argostranslate", "ctranslate2", "torch", "sentencepiece", "stanza",
                     "simplemma") if m in sys.modules]
print(json.dumps({"seconds": took, "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "heavy_modules": heavy}))
"""


def startup_times(env: dict, runs: int, cwd: Path) -> dict:
    """A worker's start: import the app and build it, in a fresh interpreter, `runs` times."""
    inner, wall, rss, heavy = [], [], [], set()
    for _ in range(runs):
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", STARTUP_PROBE], env=env, cwd=cwd,
                             capture_output=True, text=True, timeout=120)
        wall.append(time.perf_counter() - t0)
        if out.returncode:
            raise RuntimeError(f"create_app failed in a fresh interpreter:\n{out.stderr[-2000:]}")
        probe = json.loads(out.stdout.strip().splitlines()[-1])
        inner.append(probe["seconds"])
        rss.append(probe["maxrss_mb"])
        heavy.update(probe["heavy_modules"])
    return {"runs": runs, "create_app_s": _spread(inner), "process_wall_s": _spread(wall),
            "maxrss_mb": round(max(rss), 1), "heavy_modules": sorted(heavy)}


def _spread(values: list[float]) -> dict:
    return {"min": round(min(values), 3), "median": round(statistics.median(values), 3),
            "max": round(max(values), 3)}


# --- matching ------------------------------------------------------------------------

QUERIES = ("scam", "fraud", "stray dog", "live chat", "fruad", "scma", "knife bin",
           "someone passed too close to my bike", "i think i have been scammed online",
           "how do i become a special constable", "my neighbours dog is dangerous",
           "where can i report a crime", "hello is anyone there", "MENU", "volunteer",
           "i lost money to a scam and i want to report it to the police please")
KINDS = {"service", "category", "language"}


def time_matching(lines: dict, repeat: int) -> dict:
    """Time the English matcher's `match` directly (`line.matchers["en"]`), on each size.

    Each query's cost is its median over `repeat` calls, so a call that happens to be
    descheduled on a busy machine does not pass for the cost of matching.
    """
    out = {}
    for label, line in lines.items():
        matcher = line.matchers["en"]
        matcher.match("warm up")              # the index's weights are built on first use
        costs = {}
        for q in QUERIES:
            samples = []
            for _ in range(repeat):
                t0 = time.perf_counter_ns()
                matcher.match(q, KINDS)
                samples.append(time.perf_counter_ns() - t0)
            costs[q] = statistics.median(samples) / 1e3
        worst = max(costs, key=costs.get)
        out[label] = {
            "services": len(line.catalogue.services),
            "matcher": type(matcher).__name__,
            "phrases": len(matcher._phrases) if hasattr(matcher, "_phrases") else None,
            "queries": len(QUERIES), "repeat": repeat,
            "mean_us": round(statistics.fmean(costs.values()), 1),
            "worst_us": round(costs[worst], 1), "worst_query": worst,
            "per_query_us": {q: round(c, 1) for q, c in costs.items()},
        }
    return out
