"""What the command modules share: finding the running sandbox and its admin client, and the options that
name the state dir, the port, an instructor's exercises and the learner."""

from __future__ import annotations

from pathlib import Path

import click

from lab import config
from lab.admin_client import AdminClient
from lab.errors import LabError

state_dir_option = click.option("--state-dir", envvar="LAB_STATE_DIR", default=None,
                                help="the sandbox's state dir [env LAB_STATE_DIR]")
port_option = click.option("--port", type=int, default=None, envvar="LAB_PORT",
                           help=f"the sandbox's port [env LAB_PORT; default {config.DEFAULT_PORT}]")
exercises_option = click.option(
    "--exercises", "exercises_dir", envvar="LAB_EXERCISES_DIR", default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="an instructor's folder of exercise files, used beside the built-in labs [env LAB_EXERCISES_DIR]")
learner_option = click.option("--learner", envvar="LAB_LEARNER", default=None,
                              help="the learner's name [env LAB_LEARNER; default $USER]")


def state_dir_path(value: str | None) -> Path:
    return Path(value).expanduser().resolve() if value else config.default_state_dir().resolve()


def admin(state_dir: str | None, port: int | None) -> AdminClient:
    """The admin client of the running sandbox, or a LabError telling how to start it."""
    from lab import process

    directory = state_dir_path(state_dir)
    running = process.find_running(directory, port)
    if running is None:
        raise LabError(f"no sandbox is running for state dir {directory}; start it with: lab up")
    return AdminClient(running.endpoint)
