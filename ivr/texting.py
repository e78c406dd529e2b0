"""Send a service's signpost to a caller's mobile: "to get this by text, press 1".

Only to numbers that can receive a text (UK mobiles), at most a few per call and per
day, and never to a number that has texted STOP. Sent with the Twilio REST client; its
API base URL is configurable so tests can stand a local server in for Twilio.
"""
from __future__ import annotations

import logging

import phonenumbers

from .sessions import Sender

log = logging.getLogger(__name__)

UK_REGIONS = {"GB", "GG", "JE", "IM"}


def is_uk_mobile(number: str) -> bool:
    digits = number[3:]
    if number.startswith("+44") and digits.isascii() and digits.isdigit() and digits[:1] != "0":
        # What Twilio sends, E.164: already the country code and the national number, so
        # phonenumbers' parsing (half the time of this check) has nothing to find.
        parsed = phonenumbers.PhoneNumber(country_code=44, national_number=int(digits))
    else:
        try:
            parsed = phonenumbers.parse(number, "GB")
        except phonenumbers.NumberParseException:
            return False
    # +44 is the UK's, Guernsey's, Jersey's and the Isle of Man's (UK_REGIONS) alone, and a
    # number whose type is MOBILE is a valid one: one metadata lookup instead of three.
    return (parsed.country_code == 44
            and phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE)


class Texter:
    """Sends texts for the line; `enabled` only when an account and a sender are configured."""

    def __init__(self, config: dict):
        self.account_sid = config.get("TWILIO_ACCOUNT_SID")
        self.token = config.get("TWILIO_AUTH_TOKEN")
        self.from_number = config.get("SMS_FROM")
        self.messaging_service = config.get("MESSAGING_SERVICE_SID")
        self.api_base = config.get("TWILIO_API_BASE")
        self.per_call = config.get("TEXTS_PER_CALL", 3)
        self.per_day = config.get("TEXTS_PER_DAY", 10)
        self._client = None
        if self.enabled:
            # The REST client's modules (requests among them, about 14 MB) imported while the
            # app is built: gunicorn builds it once and forks the workers, which then share
            # these pages instead of each importing its own copy on its first text.
            import twilio.http.http_client  # noqa: F401
            import twilio.rest  # noqa: F401

    @property
    def enabled(self) -> bool:
        return bool(self.account_sid and self.token and (self.from_number or self.messaging_service))

    def reaches(self, number: str) -> bool:
        """Whether this number can be sent a text at all (before any limit)."""
        return self.enabled and is_uk_mobile(number)

    def status(self, number: str, sender: Sender, sent_in_call: int) -> str:
        """Whether this caller can be sent a text now: ok, off, not_mobile, opted_out or limit."""
        if not self.enabled:
            return "off"
        if not self.reaches(number):
            return "not_mobile"
        if sender.opted_out:
            return "opted_out"
        if sent_in_call >= self.per_call or sender.sent_today >= self.per_day:
            return "limit"
        return "ok"

    def client(self):
        """The REST client, made on the first text (in the worker, so no connection is shared)."""
        if self._client is None:
            from twilio.http.http_client import TwilioHttpClient
            from twilio.rest import Client

            http = TwilioHttpClient(timeout=5)     # well inside the webhook's 15 seconds
            self._client = Client(self.account_sid, self.token, http_client=http)
            if self.api_base:
                self._client.api.base_url = self.api_base.rstrip("/")
        return self._client

    def send(self, to: str, body: str) -> bool:
        options = {"to": to, "body": body}
        if self.messaging_service:
            options["messaging_service_sid"] = self.messaging_service
        else:
            options["from_"] = self.from_number
        from twilio.base.exceptions import TwilioException
        try:
            self.client().messages.create(**options)
            return True
        except (TwilioException, OSError) as exc:
            # Error 21610 is a number that opted out with Twilio directly.
            log.warning("send-by-text failed: %s %s", type(exc).__name__, getattr(exc, "code", ""))
            return False
