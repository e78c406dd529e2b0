"""Looking inside one webhook, through the Flask test client: Redis round trips and profiles.

Round trips are counted in redis-py itself (each `send_packed_command` is one trip to
the server and back; a pipeline is one), per webhook kind, on the same recorded
conversations the load generator plays. `INFO commandstats` in the load phases counts
commands instead, which a pipeline does not reduce.

Run alone to see where a webhook's time goes (cProfile, standard library):

    python -m bench.probe [--kind sms|voice_start|voice_step|sms_emergency] [--top 25]
"""
from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import pstats
import statistics
from collections import defaultdict

from redis.connection import AbstractConnection
from twilio.request_validator import RequestValidator

from . import traffic


@contextlib.contextmanager
def counting_round_trips():
    """Count the commands a webhook waits for: every command sent through redis-py's
    pool, and every read on the worker's own link (`ivr.sessions.Link.ask`). Writes
    the link sends without waiting are counted apart, as "sent"."""
    from ivr.sessions import Link
    counter = {"n": 0, "sent": 0}
    original, ask, send = AbstractConnection.send_packed_command, Link.ask, Link.send
    link_connections = set()

    def counted(self, *args, **kwargs):
        if id(self) not in link_connections:
            counter["n"] += 1
        return original(self, *args, **kwargs)

    def counted_ask(self, *args, **kwargs):
        counter["n"] += 1
        link_connections.add(id(self._connection()))
        return ask(self, *args, **kwargs)

    def counted_send(self, *args, **kwargs):
        counter["sent"] += 1
        link_connections.add(id(self._connection()))
        return send(self, *args, **kwargs)

    AbstractConnection.send_packed_command, Link.ask, Link.send = counted, counted_ask, counted_send
    try:
        yield counter
    finally:
        AbstractConnection.send_packed_command, Link.ask, Link.send = original, ask, send


def replay(app, shapes: list, seed: int, each=None) -> None:
    """Post every step of `shapes` (with fresh ids) to the app's test client.

    `each(step, post)` wraps each request, to count or profile it.
    """
    client, validator = app.test_client(), RequestValidator(traffic.TOKEN)
    for n, shape in enumerate(shapes, start=1):
        for step, ids in zip(shape.steps, traffic.conversation_ids(shape, seed, n)):
            params = traffic.all_fields(step, ids)
            signature = validator.compute_signature("http://localhost" + step.path, params)

            def post(step=step, params=params, signature=signature):
                return client.post(step.path, data=params, headers={"X-Twilio-Signature": signature})
            (each or (lambda s, p: p()))(step, post)


def redis_round_trips(app, shapes: traffic.Shapes, n: int = 40) -> dict:
    """Mean and most Redis round trips a webhook waits for, by kind (and the writes it
    sends without waiting); the SMS keyword path apart."""
    trips = defaultdict(list)
    with counting_round_trips() as counter:
        for seed, label, sample in ((8, "", shapes.calls[:n] + shapes.texts[:n] + shapes.emergencies),
                                    (7, "keyword ", shapes.keywords[:n])):
            def count(step, post, label=label):
                before, sent = counter["n"], counter["sent"]
                post()
                trips[label + step.kind].append((counter["n"] - before, counter["sent"] - sent))
            replay(app, sample, seed, each=count)
    return {kind: {"mean": round(statistics.fmean(w for w, _ in v), 2), "max": max(w for w, _ in v),
                   "sent_unwaited": round(statistics.fmean(s for _, s in v), 2), "requests": len(v)}
            for kind, v in sorted(trips.items())}


def describe(shapes: traffic.Shapes) -> dict:
    """What was recorded: how many conversations, how long, and how long it took."""
    def lengths(group):
        return round(statistics.fmean(len(s.steps) for s in group), 2)
    return {"calls": len(shapes.calls), "call_requests_mean": lengths(shapes.calls),
            "texts": len(shapes.texts), "text_requests_mean": lengths(shapes.texts),
            "emergencies": len(shapes.emergencies), "keywords": len(shapes.keywords),
            "record_s": round(shapes.record_seconds, 2)}


def profile(app, shapes: traffic.Shapes, kind: str | None, top: int) -> str:
    """cProfile of one webhook kind (or all), switched on only while those requests run.

    Everything is played twice with fresh callers; only the second, warm pass counts.
    """
    everything = shapes.calls + shapes.texts + shapes.emergencies + shapes.keywords
    for seed in (6, 5):
        profiler, count = cProfile.Profile(), 0

        def measured(step, post):
            nonlocal count
            if kind and step.kind != kind:
                post()
                return
            count += 1
            profiler.enable()
            post()
            profiler.disable()
        replay(app, everything, seed, measured)
    out = io.StringIO()
    out.write(f"{count} {kind or 'webhook'} requests through the test client\n")
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> None:
    from .run import Bench, Settings
    parser = argparse.ArgumentParser(prog="python -m bench.probe", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", choices=traffic.KINDS, help="profile only this webhook kind")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--catalogue", help="a catalogue folder (default: the project's)")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        bench = Bench(Settings(quick=True), stack)
        app = bench.app_in_process({"IVR_CATALOGUE_DIR": args.catalogue} if args.catalogue else None)
        shapes = traffic.record(app, app.extensions["ivr.line"].catalogue, series=1)
        for kind, trips in redis_round_trips(app, shapes).items():
            print(f"redis round trips, {kind}: {trips}")
        print(profile(app, shapes, args.kind, args.top))


if __name__ == "__main__":
    main()
