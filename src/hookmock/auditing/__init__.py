"""The receiver audit: attack a webhook receiver with every known defect probe.

``hookmock.audit(target, profile=, secret=, probe=)`` runs the catalogue (:mod:`.catalogue`, one
check per defect class) against a URL or an in-process app (WSGI or ASGI) and returns an
:class:`AuditReport` (text, JSON, JUnit XML, ``curl`` commands with the secret redacted).

The package is called ``auditing`` so that ``hookmock.audit`` can be the function itself.
"""

from __future__ import annotations

from .catalogue import CATALOGUE, Check, catalogue_for, check_names, every_check
from .effect import EffectProbe, ProbeFailed
from .model import CaseResult, CheckResult, Exchange, ProbeRequest
from .report import AuditReport
from .runner import ProbeUnusable, TargetUnreachable, WrongPath, audit, run_audit

__all__ = [
    "CATALOGUE",
    "AuditReport",
    "CaseResult",
    "Check",
    "CheckResult",
    "EffectProbe",
    "Exchange",
    "ProbeFailed",
    "ProbeRequest",
    "ProbeUnusable",
    "TargetUnreachable",
    "WrongPath",
    "audit",
    "catalogue_for",
    "check_names",
    "every_check",
    "run_audit",
]
