"""Receivers written by others, ported to Moda or mod.io with every flaw kept: the audit's
measurement corpus (``tests/test_audit_ported.py``; the figures are in ``docs/audit-catalogue.md``,
"Measured on real receivers").

Each module's docstring names the open-source project and file it is modelled on and lists, from
reading the code, the defects it has.  ``DEFECTS`` is that list as data: (check, status, why),
where status is the verdict the check must give (``fail`` or ``warn``); ``see`` for a check
that goes wrong only for a root cause another entry already is (it must point there, and is not a
defect of its own); or ``advisory`` for a defect no request can show (out of the measurement's
reach, and counted as such).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import (
    awx_webhooks,
    bloomberg_github_webhook,
    deltacrown_runbook,
    discord_bouncer_stripe,
    dragonmaus_gitlab,
    fastapi_gitlab_agent,
    gitmrai_gitlab,
    kodiak_ingest,
    opsconductor_stripe,
    opsconductor_stripe_v2,
    razius_github_handler,
    slack_events_adapter,
    svix_fastapi,
    teste_wf_github,
)


@dataclass(frozen=True)
class Ported:
    name: str
    make: Callable[..., Any]
    profile: str
    defects: tuple[tuple[str, str, str], ...]
    #: The receiver's work, for ``fail_once=(app, work)``.
    work: str = "apply_effect"

    def expected(self) -> dict[str, str]:
        """check -> the status the ground truth says it must have (the others pass or skip)."""
        return {check: status for check, status, _ in self.defects if status in ("fail", "warn", "see")}


PORTED: tuple[Ported, ...] = (
    Ported("slack-events-adapter", slack_events_adapter.make, "moda", slack_events_adapter.DEFECTS),
    Ported(
        "bloomberg-github-webhook", bloomberg_github_webhook.make, "moda", bloomberg_github_webhook.DEFECTS
    ),
    Ported("teste-wf-github", teste_wf_github.make, "moda", teste_wf_github.DEFECTS),
    Ported("awx-github", awx_webhooks.make_github, "moda", awx_webhooks.DEFECTS_GITHUB),
    Ported("awx-gitlab", awx_webhooks.make_gitlab, "modio", awx_webhooks.DEFECTS_GITLAB),
    Ported("dragonmaus-gitlab", dragonmaus_gitlab.make, "modio", dragonmaus_gitlab.DEFECTS),
    Ported("fastapi-gitlab-agent", fastapi_gitlab_agent.make, "modio", fastapi_gitlab_agent.DEFECTS),
    Ported("gitmrai-gitlab", gitmrai_gitlab.make, "modio", gitmrai_gitlab.DEFECTS),
    Ported("discord-bouncer-stripe", discord_bouncer_stripe.make, "moda", discord_bouncer_stripe.DEFECTS),
    Ported("opsconductor-stripe", opsconductor_stripe.make, "moda", opsconductor_stripe.DEFECTS),
    Ported("opsconductor-stripe-v2", opsconductor_stripe_v2.make, "moda", opsconductor_stripe_v2.DEFECTS),
    Ported("razius-github-handler", razius_github_handler.make, "moda", razius_github_handler.DEFECTS),
    Ported("deltacrown-runbook", deltacrown_runbook.make, "moda", deltacrown_runbook.DEFECTS),
    Ported("kodiak-ingest", kodiak_ingest.make, "moda", kodiak_ingest.DEFECTS),
    Ported("svix-fastapi", svix_fastapi.make, "moda", svix_fastapi.DEFECTS),
)
