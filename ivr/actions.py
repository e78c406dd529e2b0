"""What the call flow asks the host to do. Plain data: the flow does no I/O."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Say:
    text: str
    lang: str = "en"
    slow: bool = False


@dataclass(frozen=True)
class Pause:
    seconds: int = 1


@dataclass(frozen=True)
class Gather:
    """Wait for a key or speech while `prompt` plays; silence falls through to a Redirect."""
    prompt: tuple = ()
    lang: str = "en"
    hints: tuple[str, ...] = ()


@dataclass(frozen=True)
class SendSms:
    """Text a service's signpost to the caller; then say `sent`, or `failed` if it could not."""
    service: str
    lang: str = "en"
    sent: Say | None = None
    failed: Say | None = None


@dataclass(frozen=True)
class Hangup:
    pass


@dataclass(frozen=True)
class Noted:
    """A decision for the line's counters: which reader saw danger ("words", "model"), or
    "safe". Never any text."""
    what: str
