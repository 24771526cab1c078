"""`lab` subcommands beyond the sandbox's lifecycle, one module per topic.

Each module defines `register(main: click.Group)`; every module here is registered (no list to edit).
Keep heavy imports inside the command functions: `lab --help` should stay fast.
"""

from __future__ import annotations

import importlib
import pkgutil

import click


def register_all(main: click.Group) -> None:
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}").register(main)
