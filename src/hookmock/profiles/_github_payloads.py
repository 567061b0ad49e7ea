"""Payload builders of the GitHub profile: ``ping``, ``push``, ``pull_request`` and ``issues``.

The shapes follow the examples of GitHub's "Webhook events and payloads" reference
(https://docs.github.com/en/webhooks/webhook-events-and-payloads): the common ``repository`` and
``sender`` objects, the ``action`` key of ``pull_request`` and ``issues``, and the quirk of
``push``, whose ``repository.created_at`` and ``pushed_at`` are unix seconds where every other
event has ISO 8601 strings.  Every payload belongs to one simulated repository webhook (the
profile's :class:`Hook`), as real deliveries of one hook do.
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..clock import SECOND, format_iso
from ._text import text_of

if TYPE_CHECKING:  # pragma: no cover
    from faker import Faker

__all__ = ["Hook", "build_issues", "build_ping", "build_pull_request", "build_push"]

API = "https://api.github.com"
WEB = "https://github.com"

#: The actions hookmock sends for the events that have one (a representative subset of GitHub's).
PULL_REQUEST_ACTIONS = ("opened", "synchronize", "closed", "reopened", "edited")
ISSUES_ACTIONS = ("opened", "edited", "closed", "reopened", "labeled")

#: GitHub's "zen" sayings, one of which every ping carries (GitHub's ``GET /zen`` list).
ZEN = (
    "Design for failure.",
    "Keep it logically awesome.",
    "Mind your words, they are important.",
    "Speak like a human.",
    "Half measures are as bad as nothing at all.",
    "Favor focus over features.",
    "Avoid administrative distraction.",
    "Approachable is better than simple.",
    "Non-blocking is better than blocking.",
    "Responsive is better than fast.",
    "Anything added dilutes everything else.",
    "Practicality beats purity.",
    "Encourage flow.",
    "It's not fully shipped until it's fast.",
)


@dataclass(frozen=True)
class Hook:
    """The simulated webhook: a repository webhook (``X-GitHub-Hook-Installation-Target-Type:
    repository``) on one repository, whose id is the installation target id."""

    hook_id: int = 489_305_711
    repository_id: int = 1_296_269
    owner: str = "octocat"
    owner_id: int = 583_231
    repository: str = "Hello-World"
    target_type: str = "repository"
    #: The events the hook subscribes to (the ping payload lists them).
    events: tuple[str, ...] = ("issues", "pull_request", "push")
    created_s: int = 1_303_862_400  # 2011-04-27: when the repository was created

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repository}"


def _iso(seconds: int) -> str:
    """GitHub's timestamps: UTC, whole seconds, ``Z``."""
    return format_iso(seconds * SECOND).replace("+00:00", "Z")


def _node_id(prefix: str, rng: random.Random) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    return prefix + "_" + "".join(rng.choice(alphabet) for _ in range(16))


def _legacy_node_id(kind: str, number: int) -> str:
    """The node id GitHub gives older objects: base64 of ``"0<len>:<Type><id>"``."""
    return base64.b64encode(f"0{len(kind)}:{kind}{number}".encode()).decode()


def _sha(rng: random.Random) -> str:
    return f"{rng.getrandbits(160):040x}"


def user(login: str, uid: int, rng: random.Random, *, kind: str = "User") -> dict[str, Any]:
    url = f"{API}/users/{login}"
    return {
        "login": login,
        "id": uid,
        "node_id": _legacy_node_id(kind, uid),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
        "gravatar_id": "",
        "url": url,
        "html_url": f"{WEB}/{login}",
        "followers_url": f"{url}/followers",
        "following_url": f"{url}/following{{/other_user}}",
        "gists_url": f"{url}/gists{{/gist_id}}",
        "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{url}/subscriptions",
        "organizations_url": f"{url}/orgs",
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events{{/privacy}}",
        "received_events_url": f"{url}/received_events",
        "type": kind,
        "user_view_type": "public",
        "site_admin": False,
    }


def random_user(fake: Faker, rng: random.Random) -> dict[str, Any]:
    login = text_of(fake).user_name().replace(".", "-").replace("_", "-").strip("-") or "octo"
    return user(login, rng.randint(1, 190_000_000), rng)


def repository(hook: Hook, rng: random.Random, now_s: int, *, unix_times: bool = False) -> dict[str, Any]:
    """The hook's repository; ``unix_times``: the push event's integer ``created_at``/``pushed_at``."""
    url = f"{API}/repos/{hook.full_name}"
    created: int | str = hook.created_s if unix_times else _iso(hook.created_s)
    pushed: int | str = now_s if unix_times else _iso(now_s)
    return {
        "id": hook.repository_id,
        "node_id": _legacy_node_id("Repository", hook.repository_id),
        "name": hook.repository,
        "full_name": hook.full_name,
        "private": False,
        "owner": user(hook.owner, hook.owner_id, rng),
        "html_url": f"{WEB}/{hook.full_name}",
        "description": "My first repository on GitHub!",
        "fork": False,
        "url": url,
        "hooks_url": f"{url}/hooks",
        "issues_url": f"{url}/issues{{/number}}",
        "pulls_url": f"{url}/pulls{{/number}}",
        "commits_url": f"{url}/commits{{/sha}}",
        "created_at": created,
        "updated_at": _iso(now_s - 3600),
        "pushed_at": pushed,
        "git_url": f"git://github.com/{hook.full_name}.git",
        "ssh_url": f"git@github.com:{hook.full_name}.git",
        "clone_url": f"{WEB}/{hook.full_name}.git",
        "homepage": None,
        "size": rng.randint(1, 50_000),
        "stargazers_count": rng.randint(0, 3000),
        "watchers_count": rng.randint(0, 3000),
        "language": None,
        "has_issues": True,
        "has_projects": True,
        "has_wiki": True,
        "forks_count": rng.randint(0, 3000),
        "archived": False,
        "disabled": False,
        "open_issues_count": rng.randint(0, 500),
        "license": None,
        "allow_forking": True,
        "is_template": False,
        "topics": [],
        "visibility": "public",
        "forks": rng.randint(0, 3000),
        "open_issues": rng.randint(0, 500),
        "watchers": rng.randint(0, 3000),
        "default_branch": "master",
    }


def build_ping(hook: Hook, fake: Faker, rng: random.Random, now_s: int) -> dict[str, Any]:
    url = f"{API}/repos/{hook.full_name}/hooks/{hook.hook_id}"
    return {
        "zen": rng.choice(ZEN),
        "hook_id": hook.hook_id,
        "hook": {
            "type": "Repository",
            "id": hook.hook_id,
            "name": "web",
            "active": True,
            "events": list(hook.events),
            "config": {"content_type": "json", "insecure_ssl": "0", "url": "https://example.com/webhook"},
            "updated_at": _iso(now_s),
            "created_at": _iso(now_s),
            "url": url,
            "test_url": f"{url}/test",
            "ping_url": f"{url}/pings",
            "deliveries_url": f"{url}/deliveries",
            "last_response": {"code": None, "status": "unused", "message": None},
        },
        "repository": repository(hook, rng, now_s),
        "sender": user(hook.owner, hook.owner_id, rng),
    }


def _person(fake: Faker, login: str | None = None) -> dict[str, Any]:
    name = fake.name()
    person: dict[str, Any] = {"name": name, "email": fake.email()}
    if login is not None:
        person["username"] = login
    return person


def build_push(hook: Hook, fake: Faker, rng: random.Random, now_s: int) -> dict[str, Any]:
    pusher = random_user(fake, rng)
    before, branch = _sha(rng), rng.choice(("main", "master", "develop", f"feature/{text_of(fake).word()}"))
    commits: list[dict[str, Any]] = []
    for i in range(rng.randint(1, 3)):
        sha = _sha(rng)
        author = _person(fake, pusher["login"])
        commits.append(
            {
                "id": sha,
                "tree_id": _sha(rng),
                "distinct": True,
                "message": text_of(fake).sentence(rng.randint(3, 9)).rstrip("."),
                "timestamp": format_iso((now_s - 60 * (3 - i)) * SECOND),
                "url": f"{WEB}/{hook.full_name}/commit/{sha}",
                "author": author,
                "committer": author,
                "added": [f"{text_of(fake).word()}.py" for _ in range(rng.randint(0, 2))],
                "removed": [],
                "modified": [
                    f"{text_of(fake).word()}/{text_of(fake).word()}.md" for _ in range(rng.randint(0, 2))
                ],
            }
        )
    after = commits[-1]["id"]
    return {
        "ref": f"refs/heads/{branch}",
        "before": before,
        "after": after,
        "repository": repository(hook, rng, now_s, unix_times=True),
        "pusher": {"name": pusher["login"], "email": commits[-1]["author"]["email"]},
        "sender": pusher,
        "created": False,
        "deleted": False,
        "forced": False,
        "base_ref": None,
        "compare": f"{WEB}/{hook.full_name}/compare/{before[:12]}...{after[:12]}",
        "commits": commits,
        "head_commit": commits[-1],
    }


def _labels(fake: Faker, rng: random.Random, hook: Hook) -> list[dict[str, Any]]:
    out = []
    for name in sorted({rng.choice(("bug", "enhancement", "documentation", "question")) for _ in range(2)}):
        out.append(
            {
                "id": rng.randint(1, 9_000_000_000),
                "node_id": _node_id("LA", rng),
                "url": f"{API}/repos/{hook.full_name}/labels/{name}",
                "name": name,
                "color": f"{rng.getrandbits(24):06x}",
                "default": name in ("bug", "enhancement", "documentation", "question"),
                "description": None,
            }
        )
    return out


def build_issues(
    hook: Hook, fake: Faker, rng: random.Random, now_s: int, action: str | None = None
) -> dict[str, Any]:
    action = action or rng.choice(ISSUES_ACTIONS)
    number = rng.randint(1, 5000)
    author = random_user(fake, rng)
    created = now_s - (0 if action == "opened" else rng.randint(3600, 90 * 86400))
    closed = action == "closed"
    url = f"{API}/repos/{hook.full_name}/issues/{number}"
    issue: dict[str, Any] = {
        "url": url,
        "repository_url": f"{API}/repos/{hook.full_name}",
        "labels_url": f"{url}/labels{{/name}}",
        "comments_url": f"{url}/comments",
        "events_url": f"{url}/events",
        "html_url": f"{WEB}/{hook.full_name}/issues/{number}",
        "id": rng.randint(1, 3_000_000_000),
        "node_id": _node_id("I_kw", rng),
        "number": number,
        "title": text_of(fake).sentence(rng.randint(3, 8)).rstrip("."),
        "user": author,
        "labels": _labels(fake, rng, hook) if action == "labeled" else [],
        "state": "closed" if closed else "open",
        "locked": False,
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "comments": rng.randint(0, 40),
        "created_at": _iso(created),
        "updated_at": _iso(now_s),
        "closed_at": _iso(now_s) if closed else None,
        "author_association": rng.choice(("OWNER", "MEMBER", "CONTRIBUTOR", "NONE")),
        "state_reason": "completed" if closed else None,
        "body": fake.paragraph(nb_sentences=3) if rng.random() < 0.8 else None,
    }
    payload: dict[str, Any] = {"action": action, "issue": issue}
    if action == "labeled":
        payload["label"] = issue["labels"][0]
    payload["repository"] = repository(hook, rng, now_s)
    payload["sender"] = author if action == "opened" else random_user(fake, rng)
    return payload


def _branch(hook: Hook, ref: str, sha: str, rng: random.Random, now_s: int) -> dict[str, Any]:
    return {
        "label": f"{hook.owner}:{ref}",
        "ref": ref,
        "sha": sha,
        "user": user(hook.owner, hook.owner_id, rng),
        "repo": repository(hook, rng, now_s),
    }


def build_pull_request(
    hook: Hook, fake: Faker, rng: random.Random, now_s: int, action: str | None = None
) -> dict[str, Any]:
    action = action or rng.choice(PULL_REQUEST_ACTIONS)
    number = rng.randint(1, 5000)
    author = random_user(fake, rng)
    created = now_s - (0 if action == "opened" else rng.randint(3600, 30 * 86400))
    closed = action == "closed"
    merged = closed and rng.random() < 0.7
    url = f"{API}/repos/{hook.full_name}/pulls/{number}"
    html = f"{WEB}/{hook.full_name}/pull/{number}"
    issue_url = f"{API}/repos/{hook.full_name}/issues/{number}"
    head_sha = _sha(rng)
    pull = {
        "url": url,
        "id": rng.randint(1, 3_000_000_000),
        "node_id": _node_id("PR_kw", rng),
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": issue_url,
        "number": number,
        "state": "closed" if closed else "open",
        "locked": False,
        "title": text_of(fake).sentence(rng.randint(3, 8)).rstrip("."),
        "user": author,
        "body": fake.paragraph(nb_sentences=2) if rng.random() < 0.8 else None,
        "created_at": _iso(created),
        "updated_at": _iso(now_s),
        "closed_at": _iso(now_s) if closed else None,
        "merged_at": _iso(now_s) if merged else None,
        "merge_commit_sha": _sha(rng) if action != "opened" else None,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "labels": [],
        "milestone": None,
        "draft": False,
        "commits_url": f"{url}/commits",
        "review_comments_url": f"{url}/comments",
        "comments_url": f"{issue_url}/comments",
        "statuses_url": f"{API}/repos/{hook.full_name}/statuses/{head_sha}",
        "head": _branch(hook, f"{text_of(fake).word()}-{text_of(fake).word()}", head_sha, rng, now_s),
        "base": _branch(hook, "master", _sha(rng), rng, now_s),
        "author_association": rng.choice(("OWNER", "MEMBER", "CONTRIBUTOR", "NONE")),
        "auto_merge": None,
        "merged": merged,
        "mergeable": None if action == "opened" else True,
        "rebaseable": None if action == "opened" else True,
        "mergeable_state": "unknown" if action == "opened" else "clean",
        "merged_by": author if merged else None,
        "comments": rng.randint(0, 20),
        "review_comments": rng.randint(0, 20),
        "maintainer_can_modify": False,
        "commits": rng.randint(1, 12),
        "additions": rng.randint(0, 900),
        "deletions": rng.randint(0, 400),
        "changed_files": rng.randint(1, 30),
    }
    payload: dict[str, Any] = {"action": action, "number": number, "pull_request": pull}
    if action == "synchronize":
        payload["before"], payload["after"] = _sha(rng), head_sha
    payload["repository"] = repository(hook, rng, now_s)
    payload["sender"] = author
    return payload
