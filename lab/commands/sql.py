"""`lab sql INSTANCE "SELECT ..."`: query (or change) the rows a simulated RDS instance holds."""

from __future__ import annotations

import json

import click

from lab import config
from lab.commands._common import admin, port_option, state_dir_option


def register(main: click.Group) -> None:
    main.add_command(sql)


@click.command()
@click.argument("instance")
@click.argument("statement")
@click.option("--region", default=config.PRIMARY_REGION, show_default=True, type=click.Choice(config.REGIONS),
              help="the region of the DB instance")
@state_dir_option
@port_option
@click.option("--json", "as_json", is_flag=True, help="print the answer as JSON")
def sql(instance: str, statement: str, region: str, state_dir: str | None, port: int | None, as_json: bool) -> None:
    """Run one SQL statement on DB instance INSTANCE, e.g. lab sql securecart-orders-db "SELECT count(*) FROM orders".

    The database is SQLite with the shop's table orders(id, order_id, customer, amount, created_at).
    Writes (INSERT, UPDATE, DELETE) change the instance's data like a SQL client would, and replicas and
    point-in-time restores see them.
    """
    body = admin(state_dir, port).post("sql", {"instance": instance, "region": region, "sql": statement})
    if as_json:
        click.echo(json.dumps(body, indent=2))
        return
    if body["columns"]:
        from rich.console import Console  # (imported when a table is printed: `lab` starts without it)
        from rich.table import Table

        table = Table(show_edge=False, header_style="bold")
        for column in body["columns"]:
            table.add_column(column)
        for row in body["rows"]:
            table.add_row(*("NULL" if value is None else str(value) for value in row))
        Console().print(table)
        count = len(body["rows"])
        suffix = " (more rows were left out)" if body.get("truncated") else ""
        click.echo(f"({count} row{'s' if count != 1 else ''}){suffix}")
    if body["changed"] >= 0:
        click.echo(f"{body['changed']} row{'s' if body['changed'] != 1 else ''} changed")
