"""Gunicorn settings for production (the Procfile) and the benchmark: one place.

Sync workers suit this app: every request is a few milliseconds of CPU and one or two
Redis round trips. `WEB_CONCURRENCY` sets the number of workers (Heroku sets it).
"""
import gc
import logging
import os

bind = f"0.0.0.0:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
timeout = 10            # well inside Twilio's 15-second limit
graceful_timeout = 10
keepalive = 5
max_requests = 10000    # recycle workers now and then
max_requests_jitter = 1000
# The app (catalogue, translations, matching index, danger model) is built once, in the
# master, and each worker is a fork of it: a worker starts in milliseconds (a fresh one
# after a crash or a `max_requests` recycle too), and the pages of everything built at
# start-up are shared by every worker instead of copied into each.
preload_app = True


def pre_fork(server, worker):
    # What start-up built is never freed: frozen, the collector leaves those objects alone,
    # so it does not write to (and so copy) the shared pages they live on.
    gc.collect()
    gc.freeze()


accesslog = None        # access logs would carry CallSids and form sizes; not needed
errorlog = "-"
# IVR_LOG_LEVEL (as for `ivr-line serve`): the app's own log, on stderr beside gunicorn's
# (gunicorn's own stays at its `loglevel`). Unset, Python's default applies (warnings and errors).
if os.environ.get("IVR_LOG_LEVEL"):
    logging.basicConfig(level=os.environ["IVR_LOG_LEVEL"].upper(),
                        format="%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
