"""`lab clock`, `lab workload`, `lab events`: sim time, the order stream, and what happened."""

from __future__ import annotations

import json
import time

import click

from lab.commands._common import admin, port_option, state_dir_option


def register(main: click.Group) -> None:
    main.add_command(clock)
    main.add_command(workload)
    main.add_command(events)


@click.command()
@click.argument("action", type=click.Choice(["show", "advance", "speed", "pause", "resume"]), default="show")
@click.argument("value", required=False)
@state_dir_option
@port_option
@click.option("--json", "as_json", is_flag=True)
def clock(action: str, value: str | None, state_dir: str | None, port: int | None, as_json: bool) -> None:
    """Show or drive sim time: show | advance DURATION (90s, 15m, 3d; at most 366d) | speed FACTOR | pause |
    resume."""
    client = admin(state_dir, port)
    if action == "show":
        body = client.get("clock")
    else:
        if action in ("advance", "speed") and not value:
            raise click.UsageError(f"lab clock {action} needs a value, e.g. lab clock "
                                   f"{'advance 3d' if action == 'advance' else 'speed 60'}")
        payload: dict[str, object] = {"action": action}
        if action == "advance":
            payload["duration"] = value
        elif action == "speed":
            payload["factor"] = value
        started = time.perf_counter()
        body = client.post("clock", payload)
        body["wall_seconds"] = round(time.perf_counter() - started, 3)
    if as_json:
        click.echo(json.dumps(body, indent=2))
        return
    state = "paused" if body["paused"] else f"running at {body['speed']:g}x"
    line = f"sim time {body['now']} ({state})"
    if "advanced_seconds" in body:
        line += f"; advanced {value}: {body['steps']} engine steps in {body['wall_seconds']}s"
    click.echo(line)


@click.command()
@click.argument("action", type=click.Choice(["show", "on", "off", "rate"]), default="show")
@click.argument("orders_per_hour", required=False, type=float)
@state_dir_option
@port_option
def workload(action: str, orders_per_hour: float | None, state_dir: str | None, port: int | None) -> None:
    """The SecureCart order stream: show | on | off | rate ORDERS_PER_HOUR."""
    client = admin(state_dir, port)
    if action == "show":
        body = client.get("workload")
    elif action == "rate":
        if orders_per_hour is None:
            raise click.UsageError("lab workload rate needs a number of orders per hour, e.g. lab workload rate 120")
        body = client.post("workload", {"orders_per_hour": orders_per_hour})
    else:
        body = client.post("workload", {"enabled": action == "on"})
    click.echo(f"workload {'on' if body['enabled'] else 'off'}: {body['orders_per_hour']:g} orders/hour; "
               f"{body['orders_total']} orders in total, {body['failed_writes']} with a failed write")


@click.command()
@click.option("--kind", multiple=True, help="api, engine, fault, drill, workload, lab (repeatable)")
@click.option("--source", default=None)
@click.option("--limit", default=50, show_default=True)
@click.option("--follow", is_flag=True, help="keep printing new events (Ctrl-C stops)")
@state_dir_option
@port_option
@click.option("--json", "as_json", is_flag=True)
def events(kind: tuple[str, ...], source: str | None, limit: int, follow: bool, state_dir: str | None,
           port: int | None, as_json: bool) -> None:
    """What happened in the sandbox, in sim time: API calls, replication, backups, faults."""
    from lab.sim.clock import iso

    client = admin(state_dir, port)
    since = 0
    while True:
        query = f"events?since={since}&limit={limit}" + (f"&kind={','.join(kind)}" if kind else "") + \
            (f"&source={source}" if source else "")
        body = client.get(query)
        for event in body["events"]:
            if as_json:
                click.echo(json.dumps(event))
            else:
                where = " ".join(filter(None, [event.get("region"), event.get("resource")]))
                click.echo(f"{iso(event['time'])} {event['kind']:8} {event['source']:16} {event['name']} {where}")
        since = body["last_seq"]
        if not follow:
            return
        time.sleep(1.0)
