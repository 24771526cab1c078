"""`lab dns NAME`: what a client resolving a name in the sandbox uses (Route 53's answer, or the one its cache keeps
for the record's TTL after Route 53's answer changed), which record answered, and why."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import click

from lab.commands._common import admin, port_option, state_dir_option


def register(main: click.Group) -> None:
    main.add_command(dns)


@click.command()
@click.argument("name")
@click.option("--type", "record_type", default="A", show_default=True, help="record type: A, AAAA, CNAME, TXT, ...")
@state_dir_option
@port_option
@click.option("--nameserver", is_flag=True,
              help="what Route 53's name servers answer now, not what a client's cache holds")
@click.option("--json", "as_json", is_flag=True)
def dns(name: str, record_type: str, state_dir: str | None, port: int | None, nameserver: bool,
        as_json: bool) -> None:
    """Resolve NAME against the sandbox's hosted zones, with health checks and routing policies applied: what a
    client uses (it keeps an answer for the record's TTL after Route 53's changed), or with --nameserver what
    Route 53 answers."""
    view = "nameserver" if nameserver else "client"
    body = admin(state_dir, port).get("dns?" + urlencode({"name": name, "type": record_type.upper(), "view": view}))
    if as_json:
        click.echo(json.dumps(body, indent=2))
        return
    answer = ", ".join(body["answer"]) or "(no data)"
    ttl = f"  TTL {body['ttl']}" if body.get("ttl") is not None else ""
    click.echo(f"{body['name']} {body['type']} -> {answer}  [{body['response_code']}]{ttl}")
    if body.get("zone"):
        click.echo(f"  zone: {body['zone']}")
    current = body.get("nameserver")
    if not current:
        _explain(body, "  ")
        return
    # The client keeps an answer Route 53 gave before: its reasons are of that moment, Route 53's now apart.
    from lab.sim.clock import iso

    click.echo(f"  this client's cached answer, as Route 53 gave it before its answer changed (kept until "
               f"{iso(body['kept_until'])}):")
    _explain(body, "    ")
    click.echo(f"  Route 53 now: {', '.join(current['answer']) or '(no data)'}  [{current['response_code']}]")
    _explain(current, "    ")


def _explain(answer: dict, indent: str) -> None:
    """Which record gave `answer`, why, and the health checks that decided it."""
    record = answer.get("record") or {}
    for chosen in record.get("records", [record] if record else []):
        details = ", ".join(f"{key}={value}" for key, value in chosen.items() if key not in ("Name", "Type"))
        click.echo(f"{indent}record: {chosen.get('Name')} {chosen.get('Type')} {details}".rstrip())
    for reason in answer.get("why", []):
        click.echo(f"{indent}why: {reason}")
    for check, health in sorted(answer.get("health", {}).items()):
        click.echo(f"{indent}health {check}: {'healthy' if health['healthy'] else 'UNHEALTHY'} -- {health['reason']}")
