"""The registry of checks: every CheckSpec of the built-in modules, plus plugins.

Built-in checks live one module per service in this package. Plugins are Python packages that declare
the entry-point group `securecart_lab.checks`; an entry point names a module (every CheckSpec in it is
registered), a CheckSpec, or a callable returning CheckSpecs (see checks/README.md). A plugin that fails
to load is reported in `PLUGIN_ERRORS` and skipped: one broken plugin never hides the other checks.
"""

from __future__ import annotations

import importlib
import os
import sys
import types
from collections.abc import Iterable, Mapping
from typing import Any

from checks.base import CheckParamError, CheckResult, CheckSpec

ENTRY_POINT_GROUP = "securecart_lab.checks"
BUILTIN_MODULES = ("s3", "rds", "dynamodb", "ebs", "backup", "route53", "cloudtrail", "drs", "dr", "recovery")

CHECKS: dict[str, CheckSpec] = {}
PLUGIN_ERRORS: list[str] = []


def register(spec: CheckSpec, origin: str = "") -> None:
    if not isinstance(spec, CheckSpec):
        raise TypeError(f"{origin or 'a plugin'} registered {spec!r}, which is not a checks.base.CheckSpec")
    existing = CHECKS.get(spec.id)
    if existing is not None and existing is not spec:
        raise ValueError(f"check id {spec.id} is registered twice ({origin or spec.source}); ids must be unique")
    CHECKS[spec.id] = spec


def specs_in(value: Any) -> list[CheckSpec]:
    """The CheckSpecs a module, a spec, an iterable of specs, or a callable returning them stands for."""
    if isinstance(value, CheckSpec):
        return [value]
    if isinstance(value, types.ModuleType):
        return [item for item in vars(value).values() if isinstance(item, CheckSpec)]
    if callable(value):
        return specs_in(value())
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes, Mapping)):
        found: list[CheckSpec] = []
        for item in value:
            found.extend(specs_in(item))
        return found
    raise TypeError(f"{value!r} is neither a module, a CheckSpec, nor a callable or list of them")


def _load_builtins() -> None:
    for name in BUILTIN_MODULES:
        module = importlib.import_module(f"checks.{name}")
        for spec in specs_in(module):
            register(spec, f"checks.{name}")


def may_declare(group: str, path: Iterable[str] | None = None) -> bool:
    """Whether a distribution on `path` (sys.path) may declare entry points of `group`: its header is searched
    for in the distributions' entry_points.txt. importlib.metadata, which reads them properly, costs a `lab`
    command more to load and run than the rest of the checks' registry: without a plugin installed it is not
    loaded. What this search cannot see into (a zip file or an egg on the path) answers True."""
    header = f"[{group}]"
    for entry in sys.path if path is None else path:
        folder = entry or "."
        try:
            with os.scandir(folder) as listing:
                names = [item.name for item in listing]
        except NotADirectoryError:
            return True  # a zip file
        except OSError:
            continue
        for name in names:
            lowered = name.lower()
            if lowered.endswith(".egg"):
                return True
            if not lowered.endswith((".dist-info", ".egg-info")):
                continue
            try:
                with open(os.path.join(folder, name, "entry_points.txt"), encoding="utf-8", errors="replace") as text:
                    if header in text.read():
                        return True
            except OSError:
                continue
    return False


def load_plugins(points: Iterable[Any] | None = None) -> list[str]:
    """Register the checks of every entry point in the group; returns the errors (also in PLUGIN_ERRORS)."""
    if points is None:
        points = ()
        if may_declare(ENTRY_POINT_GROUP):
            from importlib.metadata import entry_points

            points = entry_points(group=ENTRY_POINT_GROUP)
    errors: list[str] = []
    for point in points:
        origin = f"plugin {point.name} ({point.value})"
        try:
            specs = specs_in(point.load())
            for spec in specs:
                if spec.id in CHECKS and CHECKS[spec.id] is not spec:
                    raise ValueError(f"check id {spec.id} is already registered; a plugin cannot replace it")
            for spec in specs:
                register(spec, origin)
        except Exception as exc:  # noqa: BLE001 -- a broken plugin is reported, the rest still load
            message = f"{origin} was not loaded: {type(exc).__name__}: {exc}"
            import logging  # (loaded when there is something to say)

            logging.getLogger("checks").warning(message)
            errors.append(message)
    PLUGIN_ERRORS.extend(errors)
    return errors


def get(check_id: str) -> CheckSpec:
    spec = CHECKS.get(check_id)
    if spec is None:
        raise KeyError(f"unknown check id {check_id!r}; known checks: {', '.join(sorted(CHECKS))}")
    return spec


def run(check_id: str, inventory: Mapping[str, Any], params: Mapping[str, Any] | None = None) -> list[CheckResult]:
    """The results of one check on an inventory; KeyError for an unknown id, CheckParamError for bad params."""
    return get(check_id).run(inventory, params)


def services_for(check_ids: Iterable[str]) -> set[str]:
    """The inventory services the given checks read (what a collector must gather for them)."""
    needed: set[str] = set()
    for check_id in check_ids:
        needed |= get(check_id).services
    return needed


__all__ = [
    "CHECKS",
    "ENTRY_POINT_GROUP",
    "PLUGIN_ERRORS",
    "CheckParamError",
    "get",
    "load_plugins",
    "may_declare",
    "register",
    "run",
    "services_for",
    "specs_in",
]

_load_builtins()
load_plugins()
