"""hookmock: a testing harness for webhooks (Moda, mod.io, Standard Webhooks, GitHub).

The public API is re-exported here and loaded on first use, so ``import hookmock`` stays cheap:
nothing heavy (jsonschema, faker, hypothesis, werkzeug) is imported until it is needed.
``_EXPORTS`` is the one list of public names, each pointing at the module that defines it; the
``TYPE_CHECKING`` imports below repeat it for type checkers, and ``tests/test_public_api.py`` checks
that the two match.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

# name -> module that defines it (relative to this package)
_EXPORTS: dict[str, str] = {  # sorted by name
    "ABSENT": "._util.overrides",
    "ASGITransport": ".transport.asgi",
    "AppTarget": ".transport.apps",
    "AttemptResult": ".transport",
    "AuditReport": ".auditing.report",
    "BadSignature": ".errors",
    "BadToken": ".errors",
    "Chaos": ".receiver.faults",
    "Clock": ".clock",
    "CloseBeforeStatus": ".receiver.faults",
    "Delay": ".receiver.faults",
    "Delivery": ".delivery.result",
    "DeliveryLog": ".delivery.log",
    "Dribble": ".receiver.faults",
    "Emulator": ".emulator.server",
    "EmulatorConfig": ".emulator.config",
    "EventFactory": ".factories",
    "FailOnce": ".auditing.failonce",
    "FakeReceiver": ".receiver.server",
    "FaultProxy": ".receiver.proxy",
    "HTTPTransport": ".transport.http",
    "Hang": ".receiver.faults",
    "HookmockError": ".errors",
    "InProcessTransport": ".transport.inprocess",
    "InjectedFailure": ".auditing.failonce",
    "Malformed": ".receiver.faults",
    "MalformedHeader": ".errors",
    "MissingHeader": ".errors",
    "Profile": ".profiles._base",
    "RealClock": ".clock",
    "Reset": ".receiver.faults",
    "Respond": ".receiver.faults",
    "SchemaValidationError": ".errors",
    "Sender": ".sender",
    "Sequence": ".receiver.faults",
    "ServerLimits": "._util.serving",
    "StormFailed": ".storm.report",
    "StormReport": ".storm.report",
    "TargetNotAllowed": ".errors",
    "TargetPolicy": ".transport.targets",
    "TimestampTooNew": ".errors",
    "TimestampTooOld": ".errors",
    "Transport": ".transport",
    "UnknownEventType": ".errors",
    "UnknownProfile": ".errors",
    "UsageError": ".errors",
    "Verdict": ".profiles._base",
    "VerificationError": ".errors",
    "VirtualClock": ".clock",
    "WSGITarget": ".transport.apps",
    "WSGITransport": ".transport.wsgi",
    "assert_attempts": ".receiver.assertions",
    "assert_exactly_once": ".storm",
    "assert_faithful_sender": ".receiver.assertions",
    "assert_fresh_signatures": ".receiver.assertions",
    "assert_gave_up_at_deadline": ".receiver.assertions",
    "assert_identical_bodies": ".receiver.assertions",
    "assert_same_event_id": ".receiver.assertions",
    "assert_schedule": ".receiver.assertions",
    "assert_valid_bodies": ".receiver.assertions",
    "audit": ".auditing.runner",
    "available_profiles": ".profiles",
    "check": ".signing",
    "fail_once": ".auditing.failonce",
    "get_profile": ".profiles",
    "load_schema": ".validation",
    "make_event": ".factories",
    "parse_script": ".receiver.faults",
    "register_profile": ".profiles",
    "run_scenario": ".scenarios.runner",
    "run_storm": ".storm",
    "schema_names": ".validation",
    "sign": ".signing",
    "validate": ".validation",
    "verify": ".signing",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hookmock' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover
    from ._util.overrides import ABSENT
    from ._util.serving import ServerLimits
    from .auditing.failonce import FailOnce, InjectedFailure, fail_once
    from .auditing.report import AuditReport
    from .auditing.runner import audit
    from .clock import Clock, RealClock, VirtualClock
    from .delivery.log import DeliveryLog
    from .delivery.result import Delivery
    from .emulator.config import EmulatorConfig
    from .emulator.server import Emulator
    from .errors import (
        BadSignature,
        BadToken,
        HookmockError,
        MalformedHeader,
        MissingHeader,
        SchemaValidationError,
        TargetNotAllowed,
        TimestampTooNew,
        TimestampTooOld,
        UnknownEventType,
        UnknownProfile,
        UsageError,
        VerificationError,
    )
    from .factories import EventFactory, make_event
    from .profiles import available_profiles, get_profile, register_profile
    from .profiles._base import Profile, Verdict
    from .receiver.assertions import (
        assert_attempts,
        assert_faithful_sender,
        assert_fresh_signatures,
        assert_gave_up_at_deadline,
        assert_identical_bodies,
        assert_same_event_id,
        assert_schedule,
        assert_valid_bodies,
    )
    from .receiver.faults import (
        Chaos,
        CloseBeforeStatus,
        Delay,
        Dribble,
        Hang,
        Malformed,
        Reset,
        Respond,
        Sequence,
        parse_script,
    )
    from .receiver.proxy import FaultProxy
    from .receiver.server import FakeReceiver
    from .scenarios.runner import run_scenario
    from .sender import Sender
    from .signing import check, sign, verify
    from .storm import assert_exactly_once, run_storm
    from .storm.report import StormFailed, StormReport
    from .transport import AttemptResult, Transport
    from .transport.apps import AppTarget, WSGITarget
    from .transport.asgi import ASGITransport
    from .transport.http import HTTPTransport
    from .transport.inprocess import InProcessTransport
    from .transport.targets import TargetPolicy
    from .transport.wsgi import WSGITransport
    from .validation import load_schema, schema_names, validate
