"""`lab durations`: how long the sandbox's long-running operations take in sim time, and tuning them."""

from __future__ import annotations

import json

import click

from lab.commands._common import admin, port_option, state_dir_option


def register(main: click.Group) -> None:
    main.add_command(durations)


@click.command()
@click.argument("action", type=click.Choice(["show", "set", "reset"]), default="show")
@click.argument("values", nargs=-1)
@state_dir_option
@port_option
@click.option("--json", "as_json", is_flag=True)
@click.option("--markdown", is_flag=True, help="the defaults as the table of docs/durations.md (no sandbox needed)")
def durations(action: str, values: tuple[str, ...], state_dir: str | None, port: int | None, as_json: bool,
              markdown: bool) -> None:
    """Show the duration model (show), change it for this sandbox (set NAME=VALUE ...; e.g. set scale=0.1 runs
    every long operation ten times faster), or go back to the defaults (reset [NAME ...])."""
    if markdown:
        from lab.sim.durations import markdown_table

        click.echo(markdown_table(), nl=False)
        return
    client = admin(state_dir, port)
    if action == "show":
        body = client.get("durations")
    elif action == "set":
        if not values:
            raise click.UsageError("lab durations set needs NAME=VALUE, e.g. lab durations set scale=0.5")
        changes: dict[str, float] = {}
        for item in values:
            name, sep, value = item.partition("=")
            if not sep:
                raise click.UsageError(f"{item!r}: write NAME=VALUE, e.g. rds.failover=120")
            try:
                changes[name.strip()] = float(value)
            except ValueError as exc:
                raise click.UsageError(f"{item!r}: {value!r} is not a number") from exc
        body = client.post("durations", {"set": changes})
    else:
        body = client.post("durations", {"reset": list(values) or True})
    if as_json:
        click.echo(json.dumps(body, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="durations (sim time)", title_justify="left")
    for column in ("parameter", "value", "default", "unit", "what it is"):
        table.add_column(column, overflow="fold")
    for row in body["parameters"]:
        changed = row["value"] != row["default"]
        table.add_row(row["name"], f"[bold yellow]{row['value']:g}[/]" if changed else f"{row['value']:g}",
                      f"{row['default']:g}", row["unit"], row["meaning"])
    Console().print(table)
