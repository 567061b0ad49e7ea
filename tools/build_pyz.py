"""Build ``hookmock.pyz``: hookmock and its lean run-time dependencies in one executable file.

    python tools/build_pyz.py --out hookmock.pyz                      # dependencies from the index
    .venv/bin/python tools/build_pyz.py --out hookmock.pyz --from-installed      # offline
    python3 hookmock.pyz serve --port 0 --state-file state.json

The file is a PEX (https://docs.pex-tool.org), built with the ``pex`` tool (``pip install pex``; it is
in the ``test`` extra).  It holds the ``dependencies`` of pyproject.toml and nothing from the extras
(no pytest, no hypothesis): the script checks that before it reports success.  At run time it needs
no network: on first run it unpacks itself into a venv under ``PEX_ROOT`` (default ``~/.cache/pex``).

hookmock itself is always built from this checkout, as a wheel, in a copy of the checkout (the
checkout is left as it was).  ``--from-installed`` takes the dependencies from the packages already
installed for the Python that runs the script, repacked as wheels: no download at all (the test
suite builds the file this way).

Binary dependencies (cryptography's cffi, jsonschema's rpds-py, markupsafe) are built per Python
version.  By default the file holds them for the Python that runs pex.  For a file that runs on
several versions, give ``--platform`` once per target (resolved from the index), e.g.
``--platform manylinux2014_x86_64-cp-3.10.12-cp310 --platform manylinux2014_x86_64-cp-3.12.7-cp312``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: What the .pyz must never hold: the test tools the lean install leaves out.
FORBIDDEN = ("pytest", "_pytest", "pluggy", "hypothesis", "iniconfig")
#: The files of the checkout that building the wheel reads.
SOURCES = ("pyproject.toml", "README.md", "src", "schemas")


def lean_requirements(root: Path = ROOT) -> list[str]:
    """The ``[project] dependencies`` of pyproject.toml: the lean install."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    with open(root / "pyproject.toml", "rb") as fh:
        return list(tomllib.load(fh)["project"]["dependencies"])


def build_wheel(root: Path, out_dir: Path) -> Path:
    """hookmock's wheel, built from a copy of the checkout (setuptools writes build/ and egg-info)."""
    with tempfile.TemporaryDirectory(prefix="hookmock-wheel-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
        for name in SOURCES:
            if (root / name).is_dir():
                shutil.copytree(root / name, src / name, ignore=ignore)
            elif (root / name).exists():
                shutil.copy2(root / name, src / name)
        cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out_dir), str(src)]
        try:  # offline when the build backend is at hand; else pip fetches it in an isolated env
            import setuptools  # noqa: F401
            import wheel  # noqa: F401

            cmd.insert(4, "--no-build-isolation")
        except ImportError:
            pass
        subprocess.run(cmd, check=True)
    (wheel_file,) = out_dir.glob("hookmock-*.whl")
    return wheel_file


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lean_closure(requirements: Sequence[str]) -> list[metadata.Distribution]:
    """The installed distributions that ``requirements`` need, transitively, in this interpreter."""
    try:
        from packaging.requirements import Requirement
    except ImportError:
        raise SystemExit("--from-installed needs packaging: pip install packaging") from None

    found: dict[str, metadata.Distribution] = {}
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        name = _canonical(req.name)
        if name in found:
            continue
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            raise SystemExit(f"--from-installed: {req.name} is not installed here; pip install it") from None
        found[name] = dist
        todo.extend(Requirement(r) for r in dist.requires or ())
    return list(found.values())


def repack(dist: metadata.Distribution, out_dir: Path) -> Path:
    """A wheel of an installed distribution, made from its RECORD (no download, no build)."""
    wheel_lines = (dist.read_text("WHEEL") or "").splitlines()
    tags = [line.split(":", 1)[1].strip() for line in wheel_lines if line.startswith("Tag:")]
    parts = [sorted({t.split("-")[i] for t in tags}) for i in range(3)]
    tag = "-".join(".".join(p) for p in parts)
    name = re.sub(r"[-_.]+", "_", dist.metadata["Name"])
    path = out_dir / f"{name}-{dist.version}-{tag}.whl"
    skip = {"INSTALLER", "REQUESTED", "direct_url.json", "RECORD"}
    record: list[str] = []
    dist_info = ""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in dist.files or ():
            arc = file.as_posix()
            if arc.startswith("..") or "__pycache__" in file.parts:
                continue
            if file.parts[0].endswith(".dist-info"):
                dist_info = file.parts[0]
                if file.name in skip:
                    continue
            data = Path(str(dist.locate_file(file))).read_bytes()
            zf.writestr(arc, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{arc},sha256={digest},{len(data)}")
        record.append(f"{dist_info}/RECORD,,")
        zf.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    return path


def contents(pyz: Path) -> list[str]:
    """The distributions (wheel file names) a PEX file holds."""
    with zipfile.ZipFile(pyz) as zf:
        return sorted(json.loads(zf.read("PEX-INFO"))["distributions"])


def forbidden_in(pyz: Path) -> list[str]:
    """Distributions in ``pyz`` that come from an extra, not from the lean install."""
    return [d for d in contents(pyz) if d.split("-")[0].lower().replace(".", "_") in FORBIDDEN]


def build(
    out: Path,
    *,
    from_installed: bool = False,
    platforms: Sequence[str] = (),
    compress: bool = True,
    root: Path = ROOT,
) -> Path:
    """Build the .pyz at ``out`` and return it; raise ``SystemExit`` with a message on failure."""
    pex = shutil.which("pex", path=str(Path(sys.executable).parent)) or shutil.which("pex")
    if pex is None:
        raise SystemExit('pex is not installed: pip install pex (or pip install ".[test]")')
    if from_installed and platforms:
        raise SystemExit("--from-installed holds this Python's packages only; drop --platform or it")
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hookmock-pyz-") as tmp:
        wheel_file = build_wheel(root, Path(tmp))
        requirements = lean_requirements(root)
        cmd = [pex, *requirements, str(wheel_file), "-c", "hookmock", "-o", str(out)]
        # --venv: the first run unpacks into a venv under PEX_ROOT; later runs start as fast as an
        # installed hookmock (0.7 s to a ready emulator here, against 2.2 s in pex's zipapp mode)
        cmd += ["--python-shebang", "/usr/bin/env python3", "--venv"]
        if from_installed:
            house = Path(tmp) / "wheelhouse"
            house.mkdir()
            pins = []
            for dist in lean_closure(requirements):
                repack(dist, house)
                pins.append(f"{dist.metadata['Name']}=={dist.version}\n")
            # exactly the installed versions, whatever else a pip configuration offers
            constraints = Path(tmp) / "constraints.txt"
            constraints.write_text("".join(pins))
            cmd += ["--no-pypi", "--find-links", str(house), "--constraints", str(constraints)]
            cmd += ["--python", sys.executable]
        for platform in platforms:
            cmd += ["--platform", platform]
        if not compress:
            cmd.append("--no-compress")
        subprocess.run(cmd, check=True)
    bad = forbidden_in(out)
    if bad:
        out.unlink()
        raise SystemExit(f"{out} would hold test-only distributions {bad}; the lean install must not")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="hookmock.pyz", type=Path, help="where to write (hookmock.pyz)")
    parser.add_argument(
        "--from-installed",
        action="store_true",
        help="offline: take the dependencies from the packages installed for the Python running this "
        "script (e.g. a venv made with pip install .), not from the package index",
    )
    parser.add_argument(
        "--platform",
        action="append",
        default=[],
        metavar="PLATFORM",
        help="also hold the binary dependencies for this platform, e.g. "
        "manylinux2014_x86_64-cp-3.12.7-cp312; repeatable (resolved from the index)",
    )
    parser.add_argument("--no-compress", action="store_true", help="faster to build, larger file")
    args = parser.parse_args(argv)
    started = time.monotonic()
    out = build(
        args.out,
        from_installed=args.from_installed,
        platforms=args.platform,
        compress=not args.no_compress,
    )
    size = out.stat().st_size / 1e6
    print(f"{out}: {size:.1f} MB in {time.monotonic() - started:.0f} s; holds:")
    for dist in contents(out):
        print(f"  {dist}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
