"""hookmock audit URL --profile moda|modio --secret S [--probe-url TEMPLATE] [--json] [--junit FILE]
[--seed N] [--report-dir DIR] [-v]"""

from __future__ import annotations

import argparse
import os
import sys

from ._common import add_secret_option, add_target_options, check_output_file, secret_from


def _settle(text: str) -> float:
    from ..auditing.settle import settle_arg  # loaded only when the option is given

    return settle_arg(text)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "audit",
        help="attack your webhook receiver with every known defect probe and report what is wrong",
        description="Send the full set of defect probes to the receiver at URL and print one line per "
        "check (pass, fail, warn, see, skip); for each failing check its first failing case: what came "
        "back, what a correct receiver does and a curl command (secret redacted; long bodies are written "
        "to files the command reads). --verbose shows every case; --json keeps every case in full. "
        "Exit 0 no check failed, 1 some failed, 2 usage error or unreachable target.",
    )
    p.add_argument(
        "url",
        metavar="URL",
        nargs="?",
        help="the receiver's webhook URL (loopback unless --allow-target); not needed with --list",
    )
    p.add_argument("--profile", default="moda", help="moda or modio (default: moda)")
    add_secret_option(p, what="the signing secret (Moda) or webhook token (mod.io) the receiver uses")
    p.add_argument(
        "--probe-url",
        metavar="TEMPLATE",
        help="URL with {event_id} answering how many times the receiver applied that event (a bare "
        'integer or {"count": N}); without it the checks that need it are skipped',
    )
    p.add_argument(
        "--settle",
        metavar="SECONDS",
        type=_settle,
        help="how long the effect count must stay unchanged before it is read, for receivers that "
        "apply events asynchronously (default: learned from the receiver's lag; 0: read at once)",
    )
    p.add_argument(
        "--fail-once-url",
        metavar="TEMPLATE",
        help="URL with {event_id} that your test build exposes: a POST makes the receiver's work fail "
        "once for that event (for the retry-after-failure check)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON document instead of the text report")
    p.add_argument("--junit", metavar="FILE", help="also write the report as JUnit XML to FILE")
    p.add_argument(
        "--only", metavar="CHECK", action="append", help="run only this check (repeatable; see --list)"
    )
    p.add_argument("--skip", metavar="CHECK", action="append", help="leave this check out (repeatable)")
    p.add_argument("--list", action="store_true", help="list the checks and exit")
    p.add_argument("-v", "--verbose", action="store_true", help="show every case of every check, in full")
    p.add_argument(
        "--seed",
        type=_seed,
        metavar="N",
        help="make the audit's events reproducible: the same ids and field values on every run",
    )
    p.add_argument(
        "--report-dir",
        metavar="DIR",
        help="where the text report writes long bodies and headers for its curl commands "
        "(default: a new temporary directory, named in the report)",
    )
    add_target_options(p)


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed {text!r} is not an integer; give e.g. --seed 7") from None


class _Progress:
    """``[3/21] signature`` on a terminal's stderr, rewritten in place and cleared at the end."""

    def __init__(self) -> None:
        self.width = 0

    def __call__(self, done: int, total: int, name: str) -> None:
        text = "" if done >= total else f"auditing [{done + 1}/{total}] {name}…"
        sys.stderr.write("\r" + text.ljust(self.width) + ("\r" if done >= total else ""))
        sys.stderr.flush()
        self.width = max(self.width, len(text))


def run(args: argparse.Namespace) -> int:
    from ..auditing import TargetUnreachable, audit, catalogue_for
    from ..errors import UsageError
    from ..profiles import get_profile
    from ..transport.targets import ResolutionFailed

    if args.list:
        for check in catalogue_for(get_profile(args.profile)):
            number = f"#{check.defect}" if check.defect else "  "
            print(f"{check.name:<22} {number:<4} {check.title}")
        return 0
    if not args.url:
        raise UsageError("the URL argument is required: hookmock audit URL (or --list to see the checks)")
    profile = get_profile(args.profile)
    secret = secret_from(args, profile.secret_name)
    if args.junit:
        check_output_file("--junit", args.junit)
    if args.report_dir is not None and os.path.exists(args.report_dir) and not os.path.isdir(args.report_dir):
        raise UsageError(f"--report-dir {args.report_dir!r} exists and is not a directory; give a directory")
    progress = _Progress() if sys.stderr.isatty() else None
    try:
        report = audit(
            args.url,
            profile=profile,
            secret=secret,
            probe=args.probe_url,
            settle=args.settle,
            fail_once=args.fail_once_url,
            allow_targets=tuple(args.allow_target),
            ca_file=args.ca_file,
            only=args.only,
            skip=args.skip,
            progress=progress,
            seed=args.seed,
        )
    except (TargetUnreachable, ResolutionFailed) as exc:
        print(f"hookmock audit: error: {exc}", file=sys.stderr)
        if args.junit:  # the CI report says why there are no results
            _write_junit(args.junit, _unreachable_junit(profile.name, args.url, str(exc)))
        return 2
    if args.junit and not _write_junit(args.junit, report.junit_xml()):
        return 2
    if args.json:
        print(report.to_json())
        return 0 if report.ok else 1
    report.files_dir = args.report_dir
    try:
        print(report.text(verbose=args.verbose))
    except OSError as exc:
        reason = exc.strerror or exc
        print(f"hookmock audit: cannot write to --report-dir {args.report_dir!r}: {reason}", file=sys.stderr)
        return 2
    return 0 if report.ok else 1


def _write_junit(path: str, text: str) -> bool:
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        print(f"hookmock audit: cannot write --junit {path!r}: {exc.strerror or exc}", file=sys.stderr)
        return False
    return True


def _unreachable_junit(profile: str, url: str, message: str) -> str:
    """A JUnit file with one error case: the audit could not reach the target, so no check ran."""
    import xml.etree.ElementTree as ET

    suite = ET.Element(
        "testsuite",
        {"name": f"hookmock audit ({profile})", "tests": "1", "failures": "0", "errors": "1", "skipped": "0"},
    )
    attrs = {"classname": f"hookmock.audit.{profile}", "name": "reach_target"}
    case = ET.SubElement(suite, "testcase", attrs)
    error = ET.SubElement(case, "error", {"message": message, "type": "TargetUnreachable"})
    error.text = f"hookmock audit could not reach {url}; no check ran.\n{message}"
    root = ET.Element("testsuites")
    root.append(suite)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
