"""Mutation run over hookmock's core modules with mutmut 3 (too slow for ``.ci/run``; run it by hand).

    pip install -e ".[test,mutation]"            # mutmut 3
    python bench/mutation.py                      # every group
    python bench/mutation.py profiles machine     # some groups
    python bench/mutation.py --list               # the groups, their modules and their tests
    python bench/mutation.py --max-children 2 --keep /tmp/mut profiles

Each group mutates a few modules and runs only the tests that target them (mutmut further narrows
that to the tests that reach the mutated function).  The run happens in a scratch copy of the
repository (``src``, ``tests``, ``schemas``, ``pyproject.toml``; the worktree is never touched),
with a ``[tool.mutmut]`` section written for the group.  It prints, per group, the mutants killed,
the kill rate and every survivor (``--diffs``: with its diff; or ``mutmut show NAME`` in the kept
copy); the exit status is 1 when any mutant survived.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Group:
    modules: tuple[str, ...]  # glob patterns under the repository root
    tests: tuple[str, ...]  # the targeted test files


GROUPS: dict[str, Group] = {
    "profiles": Group(
        (
            "src/hookmock/profiles/__init__.py",
            "src/hookmock/profiles/_base.py",
            "src/hookmock/profiles/moda.py",
            "src/hookmock/profiles/modio.py",
        ),
        (
            "tests/test_profiles.py",
            "tests/test_profiles_framework.py",
            "tests/test_signing.py",
            "tests/test_factories.py",
            "tests/test_validation.py",
            # the framework code in _base.py (message ids, rotation, delivery headers) is also
            # exercised by the profiles that use it most: Standard Webhooks and GitHub
            "tests/test_standard_webhooks_units.py",
            "tests/test_github_units.py",
            "tests/test_github_profile.py",
        ),
    ),
    # the fast faker-equivalent text of the payload builders, against its identity tests (faker
    # itself over thousands of seeds, and golden digests of whole seeded events)
    "payload-text": Group(("src/hookmock/profiles/_text.py",), ("tests/test_payload_identity.py",)),
    "standard-webhooks": Group(
        (
            "src/hookmock/profiles/standard_webhooks.py",
            "src/hookmock/profiles/_standard_webhooks_keys.py",
            "src/hookmock/profiles/_standard_webhooks_audit.py",
        ),
        (
            "tests/test_standard_webhooks_units.py",
            "tests/test_standard_webhooks_probes.py",
            "tests/test_standard_webhooks.py",
        ),
    ),
    "github": Group(
        ("src/hookmock/profiles/github.py", "src/hookmock/profiles/_github_audit.py"),
        ("tests/test_github_units.py", "tests/test_github_profile.py", "tests/test_github_audit.py"),
    ),
    # the payload builders: about 1 100 mutants, against the fast field-by-field tests only (the
    # audits of test_github_audit.py build payloads too, at seconds a mutant)
    "github-payloads": Group(
        ("src/hookmock/profiles/_github_payloads.py",), ("tests/test_github_payloads.py",)
    ),
    "machine": Group(
        ("src/hookmock/delivery/machine.py",),
        ("tests/test_delivery_machine.py", "tests/test_sender_schedule.py"),
    ),
    "recovery": Group(
        ("src/hookmock/delivery/_recovery.py",),
        ("tests/test_delivery_recovery.py", "tests/test_delivery_log.py", "tests/test_sender_crash.py"),
    ),
    "targets": Group(
        ("src/hookmock/transport/targets.py",),
        ("tests/test_transport_targets.py", "tests/test_transport_targets_edges.py"),
    ),
    "deadline": Group(
        ("src/hookmock/transport/_deadline.py",),
        ("tests/test_transport_deadline.py", "tests/test_transport_http.py"),
    ),
    # the audit's judgement code, against unit tests that judge scripted answers and synthetic
    # results in milliseconds; the whole-audit tests (tests/test_audit_corpus.py, 20 s) stay in the
    # normal suite
    "audit": Group(
        ("src/hookmock/auditing/verdicts.py", "src/hookmock/auditing/attribution.py"),
        ("tests/test_audit_judgement.py", "tests/test_audit_attribution.py"),
    ),
    "audit-effects": Group(
        (
            "src/hookmock/auditing/probes_body.py",
            "src/hookmock/auditing/probes_delivery.py",
            "src/hookmock/auditing/probes_effects.py",
        ),
        ("tests/test_audit_effects_units.py",),
    ),
    "settle": Group(
        ("src/hookmock/auditing/settle.py",), ("tests/test_settle_timeline.py", "tests/test_settle.py")
    ),
    "scenarios": Group(
        ("src/hookmock/scenarios/*.py",),
        (
            "tests/test_scenarios.py",
            "tests/test_scenario_errors.py",
            "tests/test_scenario_result.py",
            "tests/test_scenario_runner.py",
            # the scenario cases run in-process (its `listen` case starts a subprocess, not reached
            # by the scenario code)
            "tests/test_proxy_upstream_failure.py",
        ),
    ),
    "redact": Group(
        ("src/hookmock/_util/redact.py",),
        # tests/test_secrets_canary.py (every secret through every command, 17 s and more a run)
        # is the end-to-end guard; here, the redactor's own tests
        (
            "tests/test_redact_units.py",
            "tests/test_redact_forms.py",
            "tests/test_redact.py",
            "tests/test_redact_echoes.py",
        ),
    ),
}

COPIED = ("src", "tests", "schemas", "pyproject.toml", "README.md")

#: Appended to the scratch copy's tests/conftest.py.  mutmut runs the clean tests in one process,
#: then forks a child per mutant: a memoised result (``parse_target``'s ``lru_cache``, the cached
#: redactors) computed by the clean code in the parent would answer in the child instead of the
#: mutated code, and the mutant would survive unseen.  Every hookmock cache starts empty per test.
FRESH_CACHES = """

@pytest.fixture(autouse=True)
def _mutation_run_fresh_caches():
    import sys

    for name, module in list(sys.modules.items()):
        if name.startswith("hookmock") and module is not None:
            for value in list(vars(module).values()):
                if callable(getattr(value, "cache_clear", None)) and hasattr(value, "cache_info"):
                    value.cache_clear()
"""
RESULT = re.compile(r"^\s*(\S+): (\w[\w ]*)$")


def _workspace(name: str, group: Group, base: Path) -> Path:
    work = base / name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    for item in COPIED:
        source = ROOT / item
        if source.is_dir():
            shutil.copytree(source, work / item, ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
        elif source.exists():
            shutil.copy2(source, work / item)
    with (work / "tests" / "conftest.py").open("a", encoding="utf-8") as f:
        f.write(FRESH_CACHES)
    listed = ", ".join(f'"{p}"' for p in group.modules)
    tests = ", ".join(f'"{t}"' for t in group.tests)
    config = (
        "\n[tool.mutmut]\n"
        'source_paths = ["src"]\n'
        f"only_mutate = [{listed}]\n"
        f"pytest_add_cli_args_test_selection = [{tests}]\n"
        'pytest_add_cli_args = ["-p", "no:randomly", "-p", "no:cacheprovider", "-x", "-q"]\n'
        'also_copy = ["schemas", "README.md"]\n'
    )
    with (work / "pyproject.toml").open("a", encoding="utf-8") as f:
        f.write(config)
    # mutmut runs the stats pass in its own process: the mutated tree must exist on sys.path when
    # that process starts, or the (editable) installed hookmock is imported instead
    (work / "mutants" / "src").mkdir(parents=True)
    return work


def _mutmut(work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(work / "mutants" / "src"), HYPOTHESIS_PROFILE="ci")
    return subprocess.run(
        [sys.executable, "-m", "mutmut", *args],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def run_group(
    name: str, group: Group, base: Path, max_children: int, diffs: bool
) -> tuple[int, int, list[str]]:
    """(killed, total, survivors) for one group; survivors include mutants no targeted test reached."""
    work = _workspace(name, group, base)
    started = time.monotonic()
    run = _mutmut(work, "run", "--max-children", str(max_children))
    (work / "mutmut-run.log").write_text(run.stdout + run.stderr, encoding="utf-8")
    results = _mutmut(work, "results", "--all", "true").stdout
    statuses = {m.group(1): m.group(2).strip() for m in map(RESULT.match, results.splitlines()) if m}
    if not statuses or run.returncode != 0:
        print(run.stdout[-3000:], run.stderr[-3000:], file=sys.stderr)
    if not statuses:
        raise SystemExit(f"{name}: mutmut produced no results (see the output above)")
    counted = {k: v for k, v in statuses.items() if v not in ("not checked", "skipped")}
    survivors = sorted(k for k, v in counted.items() if v in ("survived", "no tests", "suspicious"))
    killed = sum(1 for v in counted.values() if v in ("killed", "timeout", "segfault"))
    print(f"{name}: {time.monotonic() - started:.0f} s, work directory {work}", file=sys.stderr)
    if not counted:
        raise SystemExit(f"{name}: no mutant was tested (the clean run failed? see {work}/mutmut-run.log)")
    if survivors:
        print(f"\n== {name}: {len(survivors)} survivors (status, mutant) ==")
        for mutant in survivors:
            print(f"{counted[mutant]:<10} {mutant}")
            if diffs:
                print(_mutmut(work, "show", mutant).stdout)
    return killed, len(counted), survivors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("groups", nargs="*", metavar="GROUP", help=f"of {', '.join(GROUPS)} (default: all)")
    parser.add_argument("--list", action="store_true", help="list the groups and exit")
    parser.add_argument("--max-children", type=int, default=2, help="parallel test processes (default 2)")
    parser.add_argument(
        "--diffs", action="store_true", help="print each survivor's diff (slow: one mutmut call each)"
    )
    parser.add_argument("--keep", type=Path, help="keep the scratch copies under this directory")
    args = parser.parse_args(argv)
    if args.list:
        for name, group in GROUPS.items():
            print(f"{name}: {' '.join(group.modules)} <- {' '.join(group.tests)}")
        return 0
    unknown = [g for g in args.groups if g not in GROUPS]
    if unknown:
        parser.error(f"unknown group(s) {', '.join(unknown)}; choose from {', '.join(GROUPS)}")
    base = args.keep or Path(tempfile.mkdtemp(prefix="hookmock-mutation-"))
    rows, any_survivor = [], False
    try:
        for name in args.groups or list(GROUPS):
            killed, total, survivors = run_group(name, GROUPS[name], base, args.max_children, args.diffs)
            rate = 100.0 * killed / total if total else 100.0
            rows.append(f"{name:<10} {killed:>5}/{total:<5} {rate:5.1f} %  {len(survivors)} survived")
            any_survivor = any_survivor or bool(survivors)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    print("\ngroup      killed/total  rate")
    print("\n".join(rows))
    return 1 if any_survivor else 0


if __name__ == "__main__":
    raise SystemExit(main())
