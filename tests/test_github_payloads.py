"""The GitHub payloads field by field, as GitHub's "Webhook events and payloads" examples show them:
the keys of every object (each one a key of GitHub's example payloads, which also carry more),
the URLs built from the repository, the user and the number, the constant values of the
documentation's ``octocat/Hello-World`` repository, the legacy node ids, and how each event's
fields depend on its action.  Fast unit tests (no delivery)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

import pytest

from hookmock import EventFactory, VirtualClock
from hookmock.profiles import _github_payloads as gp
from hookmock.profiles.github import GitHubProfile, Hook

API, WEB = "https://api.github.com", "https://github.com"
NOW = 1_700_000_000  # 2023-11-14T22:13:20Z
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
SHA = re.compile(r"^[0-9a-f]{40}$")
NODE = re.compile(r"^[A-Za-z0-9_-]{16}$")
HOOK = Hook()
FULL = "octocat/Hello-World"

USER_KEYS = {
    "login", "id", "node_id", "avatar_url", "gravatar_id", "url", "html_url", "followers_url",
    "following_url", "gists_url", "starred_url", "subscriptions_url", "organizations_url", "repos_url",
    "events_url", "received_events_url", "type", "user_view_type", "site_admin",
}  # fmt: skip
REPOSITORY_CONSTANTS = {
    "id": 1_296_269,
    "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
    "name": "Hello-World",
    "full_name": FULL,
    "private": False,
    "html_url": f"{WEB}/{FULL}",
    "description": "My first repository on GitHub!",
    "fork": False,
    "url": f"{API}/repos/{FULL}",
    "hooks_url": f"{API}/repos/{FULL}/hooks",
    "issues_url": f"{API}/repos/{FULL}/issues{{/number}}",
    "pulls_url": f"{API}/repos/{FULL}/pulls{{/number}}",
    "commits_url": f"{API}/repos/{FULL}/commits{{/sha}}",
    "git_url": f"git://github.com/{FULL}.git",
    "ssh_url": f"git@github.com:{FULL}.git",
    "clone_url": f"{WEB}/{FULL}.git",
    "homepage": None,
    "language": None,
    "has_issues": True,
    "has_projects": True,
    "has_wiki": True,
    "archived": False,
    "disabled": False,
    "license": None,
    "allow_forking": True,
    "is_template": False,
    "topics": [],
    "visibility": "public",
    "default_branch": "master",
}
REPOSITORY_COUNTS = (
    "size", "stargazers_count", "watchers_count", "forks_count", "open_issues_count", "forks",
    "open_issues", "watchers",
)  # fmt: skip


def _factory(seed: int) -> EventFactory:
    return EventFactory("github", seed=seed, clock=VirtualClock(NOW))


def _events(event: str, action: str | None = None, seeds: int = 12) -> Iterator[dict[str, Any]]:
    for seed in range(seeds):
        factory = _factory(seed)
        yield factory.event(event, action=action) if action else factory.event(event)


def _iso(seconds: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_user(user: dict[str, Any], login: str | None = None, uid: int | None = None) -> None:
    assert set(user) == USER_KEYS
    login = login or user["login"]
    uid = uid or user["id"]
    url = f"{API}/users/{login}"
    assert user == {
        "login": login,
        "id": uid,
        "node_id": base64.b64encode(f"04:User{uid}".encode()).decode(),
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
        "type": "User",
        "user_view_type": "public",
        "site_admin": False,
    }


def check_random_user(user: dict[str, Any]) -> None:
    check_user(user)
    assert re.fullmatch(r"[A-Za-z0-9]+(-[A-Za-z0-9]+)*", user["login"]), user["login"]
    assert 1 <= user["id"] <= 190_000_000


def check_repository(repo: dict[str, Any], *, unix_times: bool = False) -> None:
    assert set(repo) == {
        *REPOSITORY_CONSTANTS,
        *REPOSITORY_COUNTS,
        "owner",
        "created_at",
        "updated_at",
        "pushed_at",
    }
    assert {k: repo[k] for k in REPOSITORY_CONSTANTS} == REPOSITORY_CONSTANTS
    check_user(repo["owner"], "octocat", 583_231)
    assert all(isinstance(repo[k], int) and repo[k] >= 0 for k in REPOSITORY_COUNTS)
    assert repo["size"] >= 1
    if unix_times:  # the push event's quirk
        assert (repo["created_at"], repo["pushed_at"]) == (1_303_862_400, NOW)
    else:
        assert (repo["created_at"], repo["pushed_at"]) == ("2011-04-27T00:00:00Z", _iso(NOW))
    assert repo["updated_at"] == _iso(NOW - 3600)


# -- the shared objects ------------------------------------------------------------------------------
def test_legacy_node_ids_are_githubs() -> None:
    # from GitHub's example payloads: the user Codertocat (21031067) and a repository (186853261)
    assert gp._legacy_node_id("User", 21031067) == "MDQ6VXNlcjIxMDMxMDY3"
    assert gp._legacy_node_id("Repository", 186853261) == "MDEwOlJlcG9zaXRvcnkxODY4NTMyNjE="


def test_the_hook_is_octocats_hello_world() -> None:
    assert HOOK.full_name == FULL and HOOK.hook_id == 489_305_711 and HOOK.target_type == "repository"
    other = GitHubProfile(Hook(repository_id=5, owner="acme", owner_id=9, repository="api"))
    repo = EventFactory(other, seed=1).event("ping")["repository"]
    assert repo["full_name"] == "acme/api" and repo["id"] == 5 and repo["owner"]["login"] == "acme"
    assert repo["url"] == f"{API}/repos/acme/api" and repo["owner"]["id"] == 9


# -- ping ------------------------------------------------------------------------------------------
def test_ping() -> None:
    zens = set()
    for ping in _events("ping", seeds=40):
        assert set(ping) == {"zen", "hook_id", "hook", "repository", "sender"}
        zens.add(ping["zen"])
        url = f"{API}/repos/{FULL}/hooks/489305711"
        assert ping["hook_id"] == 489_305_711
        assert ping["hook"] == {
            "type": "Repository",
            "id": 489_305_711,
            "name": "web",
            "active": True,
            "events": ["issues", "pull_request", "push"],
            "config": {"content_type": "json", "insecure_ssl": "0", "url": "https://example.com/webhook"},
            "updated_at": _iso(NOW),
            "created_at": _iso(NOW),
            "url": url,
            "test_url": f"{url}/test",
            "ping_url": f"{url}/pings",
            "deliveries_url": f"{url}/deliveries",
            "last_response": {"code": None, "status": "unused", "message": None},
        }
        check_repository(ping["repository"])
        check_user(ping["sender"], "octocat", 583_231)
    assert zens <= set(gp.ZEN) and len(zens) > 5


# -- push --------------------------------------------------------------------------------------------
def test_push() -> None:
    counts, branches, added, modified = set(), set(), set(), set()
    for push in _events("push", seeds=40):
        assert set(push) == {
            "ref", "before", "after", "repository", "pusher", "sender", "created", "deleted", "forced",
            "base_ref", "compare", "commits", "head_commit",
        }  # fmt: skip
        commits = push["commits"]
        counts.add(len(commits))
        branch = push["ref"].removeprefix("refs/heads/")
        branches.add(branch.split("/")[0])
        assert push["ref"].startswith("refs/heads/") and re.fullmatch(
            r"main|master|develop|feature/\w+", branch
        )
        assert (
            SHA.match(push["before"])
            and push["after"] == commits[-1]["id"]
            and push["head_commit"] == commits[-1]
        )
        assert (push["created"], push["deleted"], push["forced"], push["base_ref"]) == (
            False,
            False,
            False,
            None,
        )
        assert push["compare"] == f"{WEB}/{FULL}/compare/{push['before'][:12]}...{push['after'][:12]}"
        check_repository(push["repository"], unix_times=True)
        check_random_user(push["sender"])
        login = push["sender"]["login"]
        assert push["pusher"] == {"name": login, "email": commits[-1]["author"]["email"]}
        for i, commit in enumerate(commits):
            assert set(commit) == {
                "id", "tree_id", "distinct", "message", "timestamp", "url", "author", "committer", "added",
                "removed", "modified",
            }  # fmt: skip
            assert SHA.match(commit["id"]) and SHA.match(commit["tree_id"]) and commit["distinct"] is True
            assert commit["message"] and not commit["message"].endswith(".")
            # the last commit a minute before the push, one minute apart, in ISO 8601 with an offset
            ago = 60 * (len(commits) - i) + 60 * (3 - len(commits))
            assert commit["timestamp"] == _iso(NOW - ago).replace("Z", "+00:00")
            assert commit["url"] == f"{WEB}/{FULL}/commit/{commit['id']}"
            assert commit["author"] == commit["committer"]
            assert (
                set(commit["author"]) == {"name", "email", "username"}
                and commit["author"]["username"] == login
            )
            assert "@" in commit["author"]["email"] and commit["author"]["name"]
            assert commit["removed"] == [] and len(commit["added"]) <= 2 and len(commit["modified"]) <= 2
            assert all(re.fullmatch(r"\w+\.py", f) for f in commit["added"])
            assert all(re.fullmatch(r"\w+/\w+\.md", f) for f in commit["modified"])
            added.add(len(commit["added"]))
            modified.add(len(commit["modified"]))
        assert len({c["id"] for c in commits}) == len(commits)
    assert counts == {1, 2, 3} and branches == {"main", "master", "develop", "feature"}
    assert added == modified == {0, 1, 2}


# -- issues ------------------------------------------------------------------------------------------
ISSUE_KEYS = {
    "url", "repository_url", "labels_url", "comments_url", "events_url", "html_url", "id", "node_id",
    "number", "title", "user", "labels", "state", "locked", "assignee", "assignees", "milestone", "comments",
    "created_at", "updated_at", "closed_at", "author_association", "state_reason", "body",
}  # fmt: skip
ASSOCIATIONS = {"OWNER", "MEMBER", "CONTRIBUTOR", "NONE"}


@pytest.mark.parametrize("action", gp.ISSUES_ACTIONS)
def test_issues(action: str) -> None:
    bodies, senders_are_authors, ages = set(), set(), set()
    for payload in _events("issues", action, seeds=30):
        top = {"action", "issue", "repository", "sender"} | ({"label"} if action == "labeled" else set())
        assert set(payload) == top and payload["action"] == action
        issue = payload["issue"]
        assert set(issue) == ISSUE_KEYS
        n = issue["number"]
        assert 1 <= n <= 5000 and 1 <= issue["id"] <= 3_000_000_000
        url = f"{API}/repos/{FULL}/issues/{n}"
        assert (issue["url"], issue["repository_url"], issue["html_url"]) == (
            url,
            f"{API}/repos/{FULL}",
            f"{WEB}/{FULL}/issues/{n}",
        )
        assert (issue["labels_url"], issue["comments_url"], issue["events_url"]) == (
            f"{url}/labels{{/name}}",
            f"{url}/comments",
            f"{url}/events",
        )
        assert issue["node_id"].startswith("I_kw_") and NODE.match(issue["node_id"][5:])
        assert issue["title"] and not issue["title"].endswith(".")
        check_random_user(issue["user"])
        assert (issue["locked"], issue["assignee"], issue["assignees"], issue["milestone"]) == (
            False,
            None,
            [],
            None,
        )
        assert 0 <= issue["comments"] <= 40 and issue["author_association"] in ASSOCIATIONS
        closed = action == "closed"
        assert issue["state"] == ("closed" if closed else "open")
        assert issue["closed_at"] == (_iso(NOW) if closed else None)
        assert issue["state_reason"] == ("completed" if closed else None)
        assert issue["updated_at"] == _iso(NOW)
        ages.add(issue["created_at"] == _iso(NOW))
        bodies.add(issue["body"] is None)
        assert issue["body"] is None or issue["body"]
        if action == "labeled":
            labels = issue["labels"]
            assert payload["label"] == labels[0] and labels == sorted(labels, key=lambda x: x["name"])
            for label in labels:
                check_label(label)
        else:
            assert issue["labels"] == []
        check_repository(payload["repository"])
        check_random_user(payload["sender"])
        senders_are_authors.add(payload["sender"] == issue["user"])
    assert ages == {action == "opened"}  # an opened issue was created now, the others earlier
    assert bodies == {True, False}  # a body is optional (null)
    assert senders_are_authors == {action == "opened"}


def check_label(label: dict[str, Any]) -> None:
    name = label["name"]
    assert name in ("bug", "enhancement", "documentation", "question")
    assert label == {
        "id": label["id"],
        "node_id": label["node_id"],
        "url": f"{API}/repos/{FULL}/labels/{name}",
        "name": name,
        "color": label["color"],
        "default": True,
        "description": None,
    }
    assert 1 <= label["id"] <= 9_000_000_000 and re.fullmatch(r"[0-9a-f]{6}", label["color"])
    assert label["node_id"].startswith("LA_") and NODE.match(label["node_id"][3:])


def test_issue_ages_and_labels_vary() -> None:
    created = {p["issue"]["created_at"] for p in _events("issues", "closed", seeds=30)}
    assert len(created) > 20 and all(_iso(NOW - 90 * 86400) <= c <= _iso(NOW - 3600) for c in created)
    names = {len(p["issue"]["labels"]) for p in _events("issues", "labeled", seeds=30)}
    assert names == {1, 2}  # two draws of four names: one or two distinct labels


# -- pull_request ------------------------------------------------------------------------------------
PULL_KEYS = {
    "url", "id", "node_id", "html_url", "diff_url", "patch_url", "issue_url", "number", "state", "locked",
    "title", "user", "body", "created_at", "updated_at", "closed_at", "merged_at", "merge_commit_sha",
    "assignee", "assignees", "requested_reviewers", "requested_teams", "labels", "milestone", "draft",
    "commits_url", "review_comments_url", "comments_url", "statuses_url", "head", "base",
    "author_association", "auto_merge", "merged", "mergeable", "rebaseable", "mergeable_state", "merged_by",
    "comments", "review_comments", "maintainer_can_modify", "commits", "additions", "deletions",
    "changed_files",
}  # fmt: skip


@pytest.mark.parametrize("action", gp.PULL_REQUEST_ACTIONS)
def test_pull_request(action: str) -> None:
    merged_seen, bodies, ages = set(), set(), set()
    for payload in _events("pull_request", action, seeds=30):
        top = {"action", "number", "pull_request", "repository", "sender"}
        assert set(payload) == top | ({"before", "after"} if action == "synchronize" else set())
        pull = payload["pull_request"]
        assert set(pull) == PULL_KEYS and payload["action"] == action
        n = pull["number"]
        assert payload["number"] == n and 1 <= n <= 5000 and 1 <= pull["id"] <= 3_000_000_000
        url, html, issue_url = (
            f"{API}/repos/{FULL}/pulls/{n}",
            f"{WEB}/{FULL}/pull/{n}",
            f"{API}/repos/{FULL}/issues/{n}",
        )
        head, base = pull["head"], pull["base"]
        assert {k: pull[k] for k in ("url", "html_url", "diff_url", "patch_url", "issue_url")} == {
            "url": url,
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue_url,
        }
        assert {
            k: pull[k] for k in ("commits_url", "review_comments_url", "comments_url", "statuses_url")
        } == {
            "commits_url": f"{url}/commits",
            "review_comments_url": f"{url}/comments",
            "comments_url": f"{issue_url}/comments",
            "statuses_url": f"{API}/repos/{FULL}/statuses/{head['sha']}",
        }
        assert pull["node_id"].startswith("PR_kw_") and NODE.match(pull["node_id"][6:])
        assert pull["title"] and not pull["title"].endswith(".")
        fixed = (
            "locked",
            "assignee",
            "assignees",
            "requested_reviewers",
            "requested_teams",
            "labels",
            "milestone",
        )
        assert [pull[k] for k in fixed] == [False, None, [], [], [], [], None]
        assert (pull["draft"], pull["auto_merge"], pull["maintainer_can_modify"]) == (False, None, False)
        for branch, ref in ((head, head["ref"]), (base, "master")):
            assert set(branch) == {"label", "ref", "sha", "user", "repo"} and branch["ref"] == ref
            assert branch["label"] == f"octocat:{ref}" and SHA.match(branch["sha"])
            check_user(branch["user"], "octocat", 583_231)
            check_repository(branch["repo"])
        assert re.fullmatch(r"\w+-\w+", head["ref"]) and head["sha"] != base["sha"]
        check_random_user(pull["user"])
        assert payload["sender"] == pull["user"]
        check_repository(payload["repository"])
        opened, closed = action == "opened", action == "closed"
        assert pull["state"] == ("closed" if closed else "open")
        assert pull["closed_at"] == (_iso(NOW) if closed else None) and pull["updated_at"] == _iso(NOW)
        ages.add(pull["created_at"] == _iso(NOW))
        merged = pull["merged"]
        merged_seen.add(merged)
        assert merged is False or closed
        assert pull["merged_at"] == (_iso(NOW) if merged else None)
        assert pull["merged_by"] == (pull["user"] if merged else None)
        assert (pull["merge_commit_sha"] is None) is opened and (
            opened or SHA.match(pull["merge_commit_sha"])
        )
        assert (pull["mergeable"], pull["rebaseable"], pull["mergeable_state"]) == (
            (None, None, "unknown") if opened else (True, True, "clean")
        )
        assert pull["author_association"] in ASSOCIATIONS
        assert 0 <= pull["comments"] <= 20 and 0 <= pull["review_comments"] <= 20
        assert 1 <= pull["commits"] <= 12 and 0 <= pull["additions"] <= 900 and 0 <= pull["deletions"] <= 400
        assert 1 <= pull["changed_files"] <= 30
        bodies.add(pull["body"] is None)
        if action == "synchronize":
            assert SHA.match(payload["before"]) and payload["after"] == head["sha"] != payload["before"]
    assert merged_seen == ({True, False} if action == "closed" else {False})
    assert bodies == {True, False} and ages == {action == "opened"}


def test_pull_request_ages() -> None:
    created = {p["pull_request"]["created_at"] for p in _events("pull_request", "closed", seeds=30)}
    assert len(created) > 20 and all(_iso(NOW - 30 * 86400) <= c <= _iso(NOW - 3600) for c in created)


def test_a_random_action_is_one_of_the_modelled_ones() -> None:
    issues = {p["action"] for p in _events("issues", seeds=40)}
    pulls = {p["action"] for p in _events("pull_request", seeds=40)}
    assert issues == set(gp.ISSUES_ACTIONS) and pulls == set(gp.PULL_REQUEST_ACTIONS)


def test_every_payload_is_valid_under_its_schema() -> None:
    from hookmock.profiles import get_profile
    from hookmock.validation import violations

    github = get_profile("github")
    for event in github.event_types:
        for payload in _events(event, seeds=6):
            assert violations(payload, github.schema_for(payload)) == [], event


def test_a_login_is_made_of_the_fake_user_name_with_dashes() -> None:
    """GitHub logins hold letters, digits and single inner dashes: a fake user name's '.' and '_'
    become dashes, none is left at either end, and a name of separators only becomes 'octo'."""
    import random

    from faker import Faker
    from faker.providers import BaseProvider

    names = iter(["_mona.lisa_", "._", "octo_cat"])

    class UserNames(BaseProvider):
        def user_name(self) -> str:
            return next(names)

    fake = Faker()
    fake.add_provider(UserNames)
    logins = [gp.random_user(fake, random.Random(1))["login"] for _ in range(3)]
    assert logins == ["mona-lisa", "octo", "octo-cat"]
    assert len({p["sender"]["login"] for p in _events("push", seeds=12)}) > 6  # the fake name, not a constant


def test_new_style_node_ids_mix_cases_and_digits() -> None:
    tails = "".join(p["issue"]["node_id"][5:] for p in _events("issues", seeds=20))
    assert (
        any(c.isupper() for c in tails)
        and any(c.islower() for c in tails)
        and any(c.isdigit() for c in tails)
    )
