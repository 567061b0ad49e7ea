"""The wheel ships the schemas and works from a fresh virtual environment outside the checkout."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _listed_packages() -> set[str]:
    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(data["tool"]["setuptools"]["packages"])


def test_every_subpackage_is_listed_in_pyproject():
    found = {
        ".".join(p.parent.relative_to(ROOT / "src").parts)
        for p in (ROOT / "src" / "hookmock").rglob("__init__.py")
    }
    assert found - _listed_packages() == set()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("hookmock-*.whl")
    return built


def test_wheel_contains_schemas(wheel: Path):
    names = zipfile.ZipFile(wheel).namelist()
    schemas = [n for n in names if n.startswith("hookmock/schemas/") and n.endswith(".schema.json")]
    assert len(schemas) >= 7
    assert "hookmock/py.typed" in names


def test_wheel_works_in_a_fresh_venv_outside_the_checkout(wheel: Path, tmp_path: Path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # install the wheel by unpacking it (what pip does for a pure wheel), without its dependencies ...
    zipfile.ZipFile(wheel).extractall(purelib)
    # ... which come from this environment, placed AFTER the venv's own site-packages
    (Path(purelib) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    code = (
        "import hookmock, json, pathlib\n"
        f"assert pathlib.Path(hookmock.__file__).is_relative_to({purelib!r}), hookmock.__file__\n"
        "event = hookmock.make_event('moda', 'task.succeeded', seed=1)\n"
        "hookmock.validate(event)\n"
        "print(len(hookmock.schema_names()))\n"
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    result = subprocess.run([str(python), "-c", code], cwd=work, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 7
