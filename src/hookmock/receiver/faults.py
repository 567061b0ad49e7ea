"""The fault vocabulary: what a fake receiver answers to one request.

Every fault is a frozen dataclass.  A *plan* maps the attempt number of an event (how many times
that event id has arrived, counting from 1) to a fault; :class:`Sequence` is the usual plan
("fail twice, then succeed") and :func:`parse_script` turns ``"500,500,ok"`` into one.

Time rule, shared with the sender through one clock (documented in the README):

* On a :class:`~hookmock.clock.VirtualClock`, waiting never sleeps.  A :class:`Delay` no longer
  than the profile's deadline advances the clock by the delay and then answers.  A delay longer
  than the deadline, a :class:`Hang`, or a :class:`Dribble` that would outlast the deadline,
  advances the clock to exactly ``arrival + deadline`` (the moment the sender gives up) and then
  closes the connection without completing an answer, so the sender's transport reports a
  timeout whose duration is exactly the deadline.
* On a :class:`~hookmock.clock.RealClock` they really wait (a hang waits until the sender hangs
  up, or the deadline plus the receiver's grace period).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..clock import SECOND, to_ns
from ..errors import UsageError

__all__ = [
    "SCRIPT_TOKENS",
    "Chaos",
    "CloseBeforeStatus",
    "Delay",
    "Dribble",
    "Fault",
    "Hang",
    "Malformed",
    "Plan",
    "Reset",
    "Respond",
    "Sequence",
    "as_plan",
    "parse_script",
]


@dataclass(frozen=True)
class Respond:
    """Answer at once with ``status``, ``body`` and ``headers``."""

    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.status, int) or not 100 <= self.status <= 599:
            raise UsageError(f"Respond(status={self.status!r}): give an HTTP status code from 100 to 599")
        if isinstance(self.body, str):
            object.__setattr__(self, "body", self.body.encode("utf-8"))
        if isinstance(self.headers, Mapping):
            object.__setattr__(self, "headers", tuple((str(k), str(v)) for k, v in self.headers.items()))

    def describe(self) -> str:
        return f"HTTP {self.status}"


@dataclass(frozen=True)
class Delay:
    """Wait ``seconds`` (virtual time on a virtual clock), then answer with ``then``.

    Longer than the deadline: the sender gives up first and no answer is completed."""

    seconds: float
    then: Respond = field(default_factory=Respond)

    def __post_init__(self) -> None:
        if isinstance(self.seconds, bool) or not isinstance(self.seconds, (int, float)) or self.seconds < 0:
            raise UsageError(f"Delay(seconds={self.seconds!r}): give a number of seconds >= 0")

    @property
    def ns(self) -> int:
        return to_ns(self.seconds)

    def describe(self) -> str:
        return f"delay {self.seconds:g}s then {self.then.describe()}"


@dataclass(frozen=True)
class Hang:
    """Never answer: hold the connection until the sender gives up (its deadline)."""

    def describe(self) -> str:
        return "hang"


@dataclass(frozen=True)
class Reset:
    """Drop the connection with a TCP RST (``SO_LINGER`` 0) without answering."""

    def describe(self) -> str:
        return "reset"


@dataclass(frozen=True)
class CloseBeforeStatus:
    """Close the connection cleanly (FIN) before sending a status line."""

    def describe(self) -> str:
        return "close before status"


@dataclass(frozen=True)
class Malformed:
    """Send bytes that are not an HTTP response, then close."""

    data: bytes = b"this is not HTTP\r\n\r\n"

    def describe(self) -> str:
        return "malformed response"


@dataclass(frozen=True)
class Dribble:
    """Send the status line and headers at once, then the body at ``bytes_per_second``.

    The default 64-byte body at 1 byte/s takes 64 s, which outlasts a whole-response deadline of
    less than that: a sender with a *total* deadline gives up; one with only a read timeout
    between bytes would wait it out."""

    bytes_per_second: float = 1.0
    then: Respond = field(default_factory=lambda: Respond(200, b"." * 64))

    def __post_init__(self) -> None:
        bps = self.bytes_per_second
        if isinstance(bps, bool) or not isinstance(bps, (int, float)) or bps <= 0:
            raise UsageError(f"Dribble(bytes_per_second={bps!r}): give a rate > 0")

    def chunk_size(self) -> int:
        """Bytes sent per step: about ten steps a second, at least one byte."""
        return max(1, int(self.bytes_per_second // 10))

    def step_ns(self, nbytes: int) -> int:
        return round(nbytes * SECOND / self.bytes_per_second)

    def total_ns(self) -> int:
        return self.step_ns(len(self.then.body))

    def describe(self) -> str:
        return f"dribble {len(self.then.body)} bytes at {self.bytes_per_second:g} B/s"


Fault = Respond | Delay | Hang | Reset | CloseBeforeStatus | Malformed | Dribble
FAULT_TYPES = (Respond, Delay, Hang, Reset, CloseBeforeStatus, Malformed, Dribble)
#: Faults that need the connection itself (a socket), so cannot happen in-process.
SOCKET_FAULTS = (Reset, CloseBeforeStatus, Malformed, Dribble)


@dataclass(frozen=True)
class Sequence:
    """Attempt ``n`` of an event gets ``faults[n - 1]``; attempts past the end get the last one."""

    faults: tuple[Fault, ...]

    def __init__(self, faults: Iterable[Fault | str | int]) -> None:
        items = tuple(_coerce(f) for f in faults)
        if not items:
            raise UsageError(
                "Sequence([]): give at least one fault, e.g. Sequence([Respond(500), Respond()])"
            )
        object.__setattr__(self, "faults", items)

    def for_attempt(self, attempt: int) -> Fault:
        return self.faults[min(attempt, len(self.faults)) - 1]

    def describe(self) -> str:
        return ", ".join(f.describe() for f in self.faults)


Plan = Sequence | Respond | Delay | Hang | Reset | CloseBeforeStatus | Malformed | Dribble

SCRIPT_TOKENS = (
    "ok",
    "<status 100-599>",
    "timeout",
    "hang",
    "reset",
    "close",
    "malformed",
    "delay:<seconds>[:<status>]",
    "dribble[:<bytes per second>]",
    "<token>*<count>",
)

_NUMBER = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_DIGITS = re.compile(r"[0-9]{1,18}")
#: The most steps a script may spell out (no provider makes more than a handful of attempts).
MAX_SCRIPT_STEPS = 1000


def _bad_token(token: str, script: str) -> UsageError:
    return UsageError(
        f"unknown fault {token!r} in script {script!r}: use comma-separated tokens from "
        + ", ".join(SCRIPT_TOKENS)
        + ' (e.g. "500,500,ok")'
    )


def _parse_token(token: str, script: str) -> Fault:
    if len(token) > 60:  # no token is this long; keep the message short
        raise _bad_token(token[:60] + "...", script)
    word = token.strip().lower()
    if word == "ok":
        return Respond(200)
    if _DIGITS.fullmatch(word):
        status = int(word)
        if not 100 <= status <= 599:
            raise UsageError(f"status {token!r} in script {script!r} is not an HTTP status: use 100-599")
        return Respond(status)
    if word in ("timeout", "hang"):
        return Hang()
    if word == "reset":
        return Reset()
    if word == "close":
        return CloseBeforeStatus()
    if word == "malformed":
        return Malformed()
    head, _, rest = word.partition(":")
    if head == "delay" and rest:
        seconds, _, code = rest.partition(":")
        if not _NUMBER.match(seconds) or (code and not _DIGITS.fullmatch(code)):
            raise UsageError(f"bad delay {token!r} in script {script!r}: write delay:2.5 or delay:2.5:503")
        then = _parse_token(code, script) if code else Respond(200)
        assert isinstance(then, Respond)
        return Delay(float(seconds), then)
    if head == "dribble":
        if not rest:
            return Dribble()
        if not _NUMBER.match(rest) or float(rest) <= 0:
            raise UsageError(f"bad dribble {token!r} in script {script!r}: write dribble or dribble:10")
        return Dribble(float(rest))
    raise _bad_token(token, script)


def parse_script(script: str) -> Sequence:
    """``"500,500,ok"`` → ``Sequence([Respond(500), Respond(500), Respond(200)])``.

    ``"500*3,ok"`` repeats a token.  At most :data:`MAX_SCRIPT_STEPS` steps in all (attempts past
    the end get the last step anyway).  Raises :class:`UsageError` naming a bad token."""
    if not isinstance(script, str) or not script.strip():
        raise UsageError(f'empty fault script {script!r}: give tokens such as "500,500,ok"')
    shown = script if len(script) <= 80 else script[:80] + "..."
    faults: list[Fault] = []
    for raw in script.split(","):
        token, star, count = raw.strip().partition("*")
        if not token:
            raise UsageError(f"empty token in script {shown!r}: remove the extra comma")
        times = 1
        if star:
            if not _DIGITS.fullmatch(count.strip()) or int(count) < 1:
                raise UsageError(f"bad repeat {raw.strip()[:40]!r} in script {shown!r}: write e.g. 500*3")
            times = int(count)
        if len(faults) + times > MAX_SCRIPT_STEPS:
            raise UsageError(
                f"script {shown!r} has more than {MAX_SCRIPT_STEPS} steps ({raw.strip()[:40]!r} makes "
                f"{len(faults) + times}); attempts past the last step get the last step again, so end "
                'with the answer to repeat (e.g. "500*3,ok")'
            )
        faults.extend([_parse_token(token, shown)] * times)
    return Sequence(faults)


def _coerce(value: object) -> Fault:
    if isinstance(value, FAULT_TYPES):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Respond(value)
    if isinstance(value, str):
        return _parse_token(value, value)
    raise UsageError(f"{value!r} is not a fault: use Respond, Delay, Hang, Reset, CloseBeforeStatus, ...")


def as_plan(value: object) -> Plan:
    """A plan from a fault, a :class:`Sequence`, a status code, a list or a script string."""
    if isinstance(value, Sequence):
        return value
    if isinstance(value, str):
        return parse_script(value)
    if isinstance(value, (list, tuple)):
        return Sequence(value)
    return _coerce(value)


def fault_for(plan: Plan, attempt: int) -> Fault:
    return plan.for_attempt(attempt) if isinstance(plan, Sequence) else plan


#: What chaos picks from unless told otherwise.
DEFAULT_CHAOS_FAULTS: tuple[Fault, ...] = (
    Respond(500),
    Respond(503),
    Hang(),
    Reset(),
    CloseBeforeStatus(),
    Malformed(),
)


@dataclass(frozen=True)
class Chaos:
    """Seeded random faults: each request is faulted with ``probability``.

    The choice depends only on ``(seed, event id, attempt)``, never on arrival order, so a run
    with the same seed makes the same choices even when requests arrive concurrently."""

    probability: float
    seed: int
    faults: tuple[Fault, ...] = DEFAULT_CHAOS_FAULTS

    def __post_init__(self) -> None:
        if not 0.0 <= self.probability <= 1.0:
            raise UsageError(f"chaos(probability={self.probability!r}): give a probability from 0 to 1")
        if not self.faults:
            raise UsageError("chaos(faults=()): give at least one fault to choose from")

    def choose(self, event_id: str | None, attempt: int) -> Fault | None:
        rng = random.Random(f"{self.seed}:{event_id}:{attempt}")
        if rng.random() >= self.probability:
            return None
        return rng.choice(self.faults)

    def describe(self) -> str:
        return f"chaos probability={self.probability:g} seed={self.seed}"
