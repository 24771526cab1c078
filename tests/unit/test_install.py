"""The install is the lock: what is installed equals requirements/*.lock, and the locks agree with pyproject."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
_PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def locked(name: str) -> dict[str, str]:
    """Package -> version for every line of a lock whose environment marker applies here."""
    found: dict[str, str] = {}
    for line in (ROOT / "requirements" / name).read_text().splitlines():
        match = _PINNED.match(line)
        if match and (match[3] is None or Marker(match[3]).evaluate()):
            found[canonicalize_name(match[1])] = match[2]
    return found


def test_the_installed_versions_are_the_locked_ones():
    wanted = locked("test.lock")
    assert len(wanted) > 50, "the lock was not read"
    wrong = {}
    for name, version in wanted.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "missing"
        if installed != version:
            wrong[name] = f"locked {version}, installed {installed}"
    assert not wrong, f"the venv differs from requirements/test.lock (run ./scripts/setup test): {wrong}"


def test_the_lab_lock_is_the_test_lock_without_the_test_tools():
    lab, test = locked("lab.lock"), locked("test.lock")
    assert set(lab) <= set(test)
    assert {name: version for name, version in lab.items() if test[name] != version} == {}
    assert {"pytest", "ruff", "import-linter"} <= set(test) - set(lab)
    assert {"awscli", "awscli-local", "moto", "textual"} <= set(lab)


def test_every_dependency_of_pyproject_is_locked_within_its_range():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    test = locked("test.lock")
    requirements = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    outside = {}
    for text in requirements:
        requirement = Requirement(text)
        version = test.get(canonicalize_name(requirement.name))
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            outside[requirement.name] = f"wants {requirement.specifier}, locked {version}"
    assert not outside, f"pyproject.toml and the lock disagree (run scripts/upgrade-deps): {outside}"
