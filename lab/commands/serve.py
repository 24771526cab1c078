"""`lab serve`: the terminal UI in a browser (textual-serve), on 127.0.0.1 only.

Each browser tab runs its own `lab tui` process over the same sandbox (started if it is not running)
and the same progress, so the browser and the terminal show the same lab.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import click

from lab import config
from lab.commands._common import state_dir_option, state_dir_path
from lab.errors import LabError

DEFAULT_WEB_PORT = 8000


def register(main: click.Group) -> None:
    main.add_command(serve)


@click.command()
@click.option("--port", type=int, default=DEFAULT_WEB_PORT, show_default=True, help="the web page's port")
@click.option("--sandbox-port", type=int, default=None, envvar="LAB_PORT",
              help=f"the sandbox's port [env LAB_PORT; default {config.DEFAULT_PORT}]")
@state_dir_option
def serve(port: int, sandbox_port: int | None, state_dir: str | None) -> None:
    """Open the lab's UI in a browser: serves it at http://127.0.0.1:PORT (Ctrl-C stops)."""
    try:
        from textual_serve.server import Server
    except ImportError as exc:
        raise LabError(f"lab serve needs textual-serve ({exc}); install it: pip install textual-serve") from exc
    import tui
    from lab.errors import PortBusyError
    from lab.sandbox.server import check_port_free

    try:
        check_port_free(config.DEFAULT_HOST, port)
    except PortBusyError as exc:
        raise LabError(f"port {port} on {config.DEFAULT_HOST} is already in use; serve the lab on another one: "
                       f"lab serve --port {port + 1}") from exc
    # The UI processes textual-serve starts inherit this environment: the same sandbox, the same progress.
    os.environ["LAB_STATE_DIR"] = str(state_dir_path(state_dir))
    if sandbox_port is not None:
        os.environ["LAB_PORT"] = str(sandbox_port)
    command = f"{shlex.quote(sys.executable)} -m lab tui"
    server = Server(command, host=config.DEFAULT_HOST, port=port, title="SecureCart DR Lab",
                    templates_path=Path(tui.__file__).resolve().parent / "web")
    click.echo(f"SecureCart DR Lab in your browser: http://{config.DEFAULT_HOST}:{port} (Ctrl-C stops)")
    server.serve()
