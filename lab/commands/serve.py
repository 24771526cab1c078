"""`lab serve`: the terminal UI in a browser (textual-serve), on 127.0.0.1 only.

Each browser tab runs its own `lab tui` process over the same sandbox (started if it is not running)
and the same progress, so the browser and the terminal show the same lab.

Only the page it serves may drive it: a request naming the server by a non-loopback Host (a DNS-rebinding
page) is refused with 403, and so is a WebSocket whose Origin is not the server's own page (any other page
could otherwise open a TUI session and read and type into it).
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Any

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
    server = same_origin_server(Server)(command, host=config.DEFAULT_HOST, port=port, title="SecureCart DR Lab",
                    templates_path=Path(tui.__file__).resolve().parent / "web")
    click.echo(f"SecureCart DR Lab in your browser: http://{config.DEFAULT_HOST}:{port} (Ctrl-C stops)")
    server.serve()


def same_origin_server(server_class: type[Any]) -> type[Any]:
    """textual-serve's Server, refusing foreign Host names and WebSockets from another page's origin."""
    from aiohttp import web

    from lab.safety import host_allowed, is_own_origin

    @web.middleware
    async def same_origin_only(request: web.Request, handler: Any) -> web.StreamResponse:
        host = request.headers.get("Host")
        if not host_allowed(host):
            return web.json_response({"error": f"lab serve answers only to loopback host names, not "
                                               f"{(host or '')[:100]!r}"}, status=403)
        origin = request.headers.get("Origin")
        if request.path == "/ws" and origin is not None and not is_own_origin(origin, host):
            return web.json_response({"error": f"the lab's terminal takes no connection from another page "
                                               f"({origin[:100]!r})"}, status=403)
        return await handler(request)

    class SameOriginServer(server_class):
        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.middlewares.append(same_origin_only)
            return app

    return SameOriginServer
