"""The `lab` command. Each subcommand is a thin layer over the admin API or the process helpers."""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lab import __version__, config
from lab.commands import register_all
from lab.commands._common import admin, port_option, state_dir_option
from lab.commands._common import state_dir_path as _state_dir
from lab.errors import LabError

if TYPE_CHECKING:
    from rich.console import Console

SHELLS = ("bash", "zsh", "fish", "powershell")


class LabGroup(click.Group):
    """Turns LabError into a clear message and its exit code instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LabError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)


def _console() -> Console:
    from rich.console import Console

    return Console()


@click.group(cls=LabGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lab")
@click.pass_context
def main(ctx: click.Context) -> None:
    """SecureCart DR Lab: a local two-region AWS sandbox for backup, replication and disaster recovery.

    Run `lab up` to start the sandbox, then `eval "$(lab env)"` to point the aws CLI and boto3 at it.
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(tui)


@main.command()
@click.option("--backend", default="embedded", show_default=True,
              help="embedded (moto in the sandbox), localstack (Docker), or an endpoint URL")
@port_option
@state_dir_option
@click.option("--foreground", is_flag=True, help="run in this terminal instead of detaching")
@click.option("--allow-remote", is_flag=True, help="accept a backend URL that is not on loopback")
@click.option("--seed", type=int, default=None, help="seed for deterministic ids and data (new state only)")
@click.option("--no-world", is_flag=True, help="start empty, without the SecureCart world")
@click.option("--fsync", type=click.Choice(sorted(config.FSYNC_POLICY_NAMES)), default=None,
              help="when an acknowledged change is on disk: always (fsync each, survives a power cut), batch "
                   "(the same, concurrent changes share an fsync), never (written to the OS: survives kill -9 "
                   "and crashes of the sandbox, not a power cut)  [default: never]")
def up(backend: str, port: int | None, state_dir: str | None, foreground: bool, allow_remote: bool,
       seed: int | None, no_world: bool, fsync: str | None) -> None:
    """Start the sandbox (detached), or find the one already running."""
    from lab import process
    from lab.admin_client import AdminClient
    from lab.errors import PortBusyError

    directory = _state_dir(state_dir)
    port = port or config.DEFAULT_PORT
    running = process.find_running(directory)
    if running is not None:
        click.echo(f"The sandbox is already running at {running.endpoint} (pid {running.pid}, "
                   f"backend {running.runtime.get('backend', '?')}, state {directory}).")
        return
    if backend == "localstack":
        _prepare_localstack()
    try:
        running = process.start(directory, port=port, backend=backend, foreground=foreground,
                                 allow_remote=allow_remote, seed=seed, no_world=no_world, fsync=fsync,
                                 progress=lambda line: click.echo(line, err=True))
    except PortBusyError as exc:
        other = AdminClient(config.endpoint_url(port))
        if other.alive():
            status = other.status(counts=False)
            taken_by = status.get("state_dir")
            raise LabError(f"port {port} is taken by another SecureCart sandbox (state dir {taken_by}); "
                           f"use it with --state-dir {taken_by}, or start this one with --port {port + 1}") from exc
        raise
    status = AdminClient(running.endpoint).status(counts=False)
    click.echo(f"SecureCart DR Lab sandbox ready at {running.endpoint} "
               f"(backend {status['backend']}, pid {running.pid}, boot {status.get('boot_seconds') or 0:.2f}s)")
    click.echo(f"state: {directory}")
    replayed = (status.get("storage") or {}).get("last_replay")
    if replayed and replayed.get("records"):
        click.echo(f"replayed {replayed['records']} journaled changes in {replayed['seconds']:.1f}s (those made "
                   "since the last snapshot: `lab down` leaves them in the journal when replaying them is quick)")
    detail = status.get("backend_detail") or {}
    if detail.get("mode") == "host":
        click.echo(f"LocalStack (host mode): {detail.get('endpoint')}, pid {detail.get('pid')}, "
                   f"ready in {detail.get('start_seconds') or 0:.1f}s, log {detail.get('log')}")
    for warning in status.get("warnings", []):
        click.echo(f"warning: {warning}", err=True)
    click.echo('Point your tools at it:  eval "$(lab env)"')


def _prepare_localstack() -> None:
    """Without Docker, LocalStack runs in host mode: install it here, where the user sees the progress line,
    rather than inside the detached sandbox."""
    from lab.backends.localstack import choose_mode

    mode, why_not_docker = choose_mode()
    if mode != "host":
        return
    from lab.backends.localstack_host import ensure_installed

    click.echo(f"LocalStack runs in host mode, without Docker ({why_not_docker})")
    ensure_installed(click.echo)


@main.command()
@state_dir_option
@port_option
def down(state_dir: str | None, port: int | None) -> None:
    """Stop the sandbox, saving its state."""
    from lab import process

    directory = _state_dir(state_dir)
    running = process.find_running(directory, port)
    if running is None:
        click.echo("The sandbox is not running.")
        return
    from lab.backends.localstack_host import PID_FILE as LOCALSTACK_PID_FILE

    host_mode = (directory / LOCALSTACK_PID_FILE).exists()  # the sandbox runs LocalStack in host mode
    saved = process.stop(directory, running)
    if host_mode:
        click.echo("The sandbox and LocalStack (host mode) stopped. LocalStack keeps no resources: the next "
                   f"lab up --backend localstack starts a fresh SecureCart world (state dir {directory}).")
    elif saved is None:
        click.echo(f"The sandbox stopped; its state is in {directory}.")
    elif not saved.get("saved"):
        click.echo(f"The sandbox stopped, but its state could not be saved: {saved.get('error')}", err=True)
        sys.exit(1)
    elif saved.get("error"):
        click.echo(f"The sandbox stopped. warning: {saved['error']}", err=True)
        click.echo(f"Every acknowledged change is in its journal in {directory}, replayed at the next `lab up`.")
    elif saved.get("how") == "journal":
        records = saved.get("journal_records", 0)
        click.echo(f"The sandbox stopped; its state is saved in {directory} (the last snapshot and the "
                   f"{records} change{'' if records == 1 else 's'} journaled since).")
    else:
        click.echo(f"The sandbox stopped; its state is saved in {directory}.")


@main.command()
@state_dir_option
@port_option
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def status(state_dir: str | None, port: int | None, as_json: bool) -> None:
    """Backend, uptime, regions, resource counts and the state dir."""
    body = admin(state_dir, port).status(counts=True)
    if as_json:
        click.echo(json.dumps(body, indent=2, sort_keys=True))
        return
    from lab.render import status_table

    _console().print(status_table(body))


@main.command()
@click.option("--shell", type=click.Choice(SHELLS), default=None, help="shell syntax [default: from $SHELL]")
@click.option("--region", default=config.PRIMARY_REGION, show_default=True)
@state_dir_option
@port_option
def env(shell: str | None, region: str, state_dir: str | None, port: int | None) -> None:
    """Print the variables that point the aws CLI, boto3 and awslocal at the sandbox."""
    from lab import process
    from lab.safety import dummy_aws_environment

    shell = shell or _guess_shell()
    endpoint = process.endpoint_for(_state_dir(state_dir), port)
    variables = dummy_aws_environment(endpoint, region)
    host_port = endpoint.split("://", 1)[1]
    variables["LOCALSTACK_HOST"] = host_port  # awslocal reads this
    variables["AWS_ENDPOINT_URL_S3"] = endpoint
    for name, value in variables.items():
        click.echo(_export_line(shell, name, value))
    # aws CLI v1 ignores AWS_ENDPOINT_URL for a few services (RDS in us-east-1 goes to rds.amazonaws.com,
    # SQS): the lab's aws passes --endpoint-url on every call, as awslocal does. It is a small program first
    # on PATH, so that a learner's scripts and every other child process run it too (a shell function is seen
    # by the shell alone); PowerShell, or a state dir that cannot hold it, gets a function as before.
    from lab.tools import aws_shim_dir, own_tool

    own_aws = own_tool("aws")
    shim_dir = aws_shim_dir(_state_dir(state_dir), own_aws) if own_aws and shell != "powershell" else None
    click.echo(_path_first(shell, shim_dir) if shim_dir else _aws_wrapper(shell, own_aws))
    awslocal = own_tool("awslocal")
    if awslocal:
        click.echo(_function(shell, "awslocal", awslocal, ""))
    usage = {"fish": "lab env --shell fish | source",
             "powershell": "lab env --shell powershell | Invoke-Expression"}.get(shell, 'eval "$(lab env)"')
    click.echo(_comment(shell, f"run: {usage}"))


def _guess_shell() -> str:
    name = Path(os.environ.get("SHELL", "bash")).name
    if name in SHELLS:
        return name
    return "powershell" if os.name == "nt" else "bash"


def _export_line(shell: str, name: str, value: str) -> str:
    if shell == "fish":
        return f"set -gx {name} '{value}';"
    if shell == "powershell":
        return f"$Env:{name} = \"{value}\""
    return f"export {name}='{value}'"


def _path_first(shell: str, directory: Path) -> str:
    """Put `directory` first on PATH, once however often `lab env` is evaluated."""
    if shell == "fish":
        quoted = _fish_quote(str(directory))
        return f"contains -- {quoted} $PATH; or set -gx PATH {quoted} $PATH;"
    quoted = shlex.quote(str(directory))
    return f'case ":$PATH:" in *:{quoted}:*) ;; *) export PATH={quoted}:"$PATH" ;; esac'


def _aws_wrapper(shell: str, executable: str | None) -> str:
    if shell == "fish":
        return _function(shell, "aws", executable, "--endpoint-url $AWS_ENDPOINT_URL")
    if shell == "powershell":
        return _function(shell, "aws", executable, "--endpoint-url $Env:AWS_ENDPOINT_URL")
    return _function(shell, "aws", executable, '--endpoint-url "$AWS_ENDPOINT_URL"')


def _function(shell: str, name: str, executable: str | None, arguments: str) -> str:
    """A shell function `name` running `executable` (or the command of that name on PATH) with `arguments`."""
    extra = f" {arguments}" if arguments else ""
    if shell == "fish":
        target = _fish_quote(executable) if executable else f"command {name}"
        return f"function {name}; {target}{extra} $argv; end;"
    if shell == "powershell":
        target = ("& '" + executable.replace("'", "''") + "'" if executable else
                  f"& (Get-Command {name} -CommandType Application | Select-Object -First 1)")
        return f"function {name} {{ {target}{extra} @args }}"
    target = shlex.quote(executable) if executable else f"command {name}"
    return f"{name}() {{ {target}{extra} \"$@\"; }}"


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _comment(shell: str, text: str) -> str:
    return f"# {text}"


@main.command()
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@state_dir_option
@port_option
def reset(yes: bool, state_dir: str | None, port: int | None) -> None:
    """Bring the world back to its start (everything you created is removed)."""
    client = admin(state_dir, port)
    if not yes and not click.confirm("Reset the sandbox? Every resource you created will be removed", default=False):
        click.echo("Nothing was changed.")
        return
    client.reset()
    click.echo("The SecureCart world is back to its start.")


@main.command()
@click.option("--backend", default=None, help="report for this backend without a running sandbox")
@state_dir_option
@port_option
@click.option("--json", "as_json", is_flag=True)
def doctor(backend: str | None, state_dir: str | None, port: int | None, as_json: bool) -> None:
    """Which labs' services the backend supports (a live probe when the sandbox runs)."""
    from lab import process
    from lab.admin_client import AdminClient
    from lab.doctor import static_report

    directory = _state_dir(state_dir)
    running = process.find_running(directory, port)
    if running is not None and backend not in (None, running.runtime.get("backend")):
        running = None  # the sandbox runs another backend: report the one asked for from what is known
    if running is not None:
        report = AdminClient(running.endpoint).doctor()
        report["backend"] = running.runtime.get("backend", "?")
        report["source"] = f"live probe of {running.endpoint}"
    else:
        name = backend or "embedded"
        report = static_report(name)
        report["backend"] = name
        report["source"] = (f"known facts (start the sandbox for a live probe: lab up --backend {name})"
                            if name != "embedded" else "known facts (start the sandbox for a live probe)")
        if name == "localstack":
            from lab.doctor import localstack_prerequisites

            report["prerequisites"] = localstack_prerequisites()
    from lab.tools import find_tools

    report["tools"] = [tool.to_dict() for tool in find_tools()]
    if as_json:
        click.echo(json.dumps(report, indent=2, sort_keys=True))
        return
    from lab.render import doctor_tables

    console = _console()
    for part in doctor_tables(report):
        console.print(part)


@main.command()
def tui() -> None:
    """Open the terminal UI (starts the sandbox if it is not running)."""
    try:
        from tui.app import run_app
    except ImportError as exc:
        raise LabError(f"the terminal UI is not available: {exc}") from exc
    run_app()


register_all(main)

if __name__ == "__main__":
    main()
