"""The danger detector's cost, in-process: `python -m bench.safety` (also part of `python -m bench`).

Every corpus text of every language (training and test files) and longer messages made
from them are assessed by the line's `Safety` (word lists, then the model), cold (the
first time a worker sees their words) and warm. The baseline, measured in the same run
on the same texts, is the word lists alone: what the line did before it had a model.
Memory: the resident size of a fresh interpreter that builds the line and reads 20,000
texts (so the per-word caches are full), with its model, against one whose model is
left out (same content otherwise).
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EMERGENCY = ROOT / "catalogue" / "emergency"

MEMORY_PROBE = r"""
import gc, json, sys
from ivr import config
from ivr.line import build
from ivr.safety import Safety, WordLists, corpus
if sys.argv[1] == "words-only":
    Safety.load = classmethod(lambda cls, d: cls(WordLists.load(d), None))
line = build(config.from_environment())
texts = [ex.text for ex in corpus.read(config.from_environment()["CATALOGUE_DIR"] / "emergency", "train")]
for text in texts[:20000]:          # fill the per-word caches as a long-running worker would
    line.safety.assess(text)
gc.collect()
status = dict(row.split(":", 1) for row in open("/proc/self/status").read().splitlines() if ":" in row)
print(json.dumps({"rss_mb": int(status["VmRSS"].split()[0]) / 1024, "model": line.safety.model is not None}))
"""


def texts() -> list[str]:
    from ivr.safety import corpus
    out = [ex.text for split in ("train", "test") for ex in corpus.read(EMERGENCY, split)]
    # Long messages too (several texts run together, up to Twilio's 1,600 characters).
    out += [" ".join(out[i:i + 12])[:1600] for i in range(0, len(out), 97)]
    return out


def _percentiles(samples_ns: list[int]) -> dict:
    s = sorted(samples_ns)
    pick = lambda q: round(s[min(len(s) - 1, int(q * len(s)))] / 1e3, 1)
    return {"p50_us": pick(0.50), "p95_us": pick(0.95), "p99_us": pick(0.99), "max_us": round(s[-1] / 1e3, 1),
            "mean_us": round(statistics.fmean(s) / 1e3, 1)}


def _time(fn, items) -> list[int]:
    out = []
    for text in items:
        t0 = time.perf_counter_ns()
        fn(text)
        out.append(time.perf_counter_ns() - t0)
    return out


def timing(safety) -> dict:
    """Per-message cost of the word lists alone (baseline) and of the whole detector."""
    from ivr.safety import features
    items = texts()
    baseline = _time(safety.words.which, items)
    features.char_hashes.cache_clear()
    if safety.model is not None:
        safety.model.clear_caches()
    cold = _time(safety.assess, items)
    warm = _time(safety.assess, items)
    result = {"messages": len(items), "baseline_words_only": _percentiles(baseline),
              "cold": _percentiles(cold), "warm": _percentiles(warm)}
    result["ratio_p99_warm_to_baseline"] = round(result["warm"]["p99_us"] / result["baseline_words_only"]["p99_us"], 2)
    return result


def memory(env: dict | None = None) -> dict:
    """Resident size of a worker's line, with the model and without it, caches full."""
    out = {}
    for mode in ("with-model", "words-only"):
        run = subprocess.run([sys.executable, "-c", MEMORY_PROBE, mode], capture_output=True, text=True,
                             cwd=ROOT, env=env, timeout=120)
        if run.returncode:
            raise RuntimeError(run.stderr[-2000:])
        out[mode] = round(json.loads(run.stdout.strip().splitlines()[-1])["rss_mb"], 1)
    out["model_adds_mb"] = round(out["with-model"] - out["words-only"], 1)
    return out


def measure(line, env: dict | None = None) -> dict:
    return {"timing": timing(line.safety), "memory": memory(env)}


def text(result: dict) -> str:
    t, m = result["timing"], result["memory"]
    rows = [f"danger detector, in-process, {t['messages']} messages (corpus texts of every language, and long ones):",
            f"  {'':<22}{'p50 us':>9}{'p95 us':>9}{'p99 us':>9}{'max us':>9}"]
    for label, key in (("word lists (baseline)", "baseline_words_only"), ("line, cold", "cold"), ("line, warm", "warm")):
        p = t[key]
        rows.append(f"  {label:<22}{p['p50_us']:>9}{p['p95_us']:>9}{p['p99_us']:>9}{p['max_us']:>9}")
    rows.append(f"  p99 warm / baseline: {t['ratio_p99_warm_to_baseline']}x")
    rows.append(f"  worker RSS, line built and caches full: {m['with-model']} MB with the model, {m['words-only']} MB "
                f"without: the model adds {m['model_adds_mb']} MB")
    return "\n".join(rows)


def main() -> int:
    from ivr import config
    from ivr.line import build
    line = build(config.from_environment())
    result = measure(line)
    print(text(result))
    p99 = max(result["timing"]["cold"]["p99_us"], result["timing"]["warm"]["p99_us"])
    ok = p99 < 300 and result["memory"]["model_adds_mb"] <= 10
    print(f"targets: p99 under 300 us ({p99}): {'met' if p99 < 300 else 'MISSED'}; "
          f"memory up at most 10 MB ({result['memory']['model_adds_mb']}): "
          f"{'met' if result['memory']['model_adds_mb'] <= 10 else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
