"""`lab fail`, `lab recover`, `lab faults`, `lab drill`, `lab drills`: failures by hand and a lab's drill."""

from __future__ import annotations

import json
from typing import Any

import click

from lab.commands._common import admin, port_option, state_dir_option


def register(main: click.Group) -> None:
    main.add_command(fail)
    main.add_command(recover)
    main.add_command(faults)
    main.add_command(drill)
    main.add_command(drills)


def _params(pairs: tuple[str, ...]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE (e.g. --param region=us-east-1)",
                                     param_hint="--param")
        params[name.strip()] = value.strip()
    return params


def _echo_json(body: Any) -> None:
    click.echo(json.dumps(body, indent=2, default=str))


@click.command()
@click.argument("scenario", required=False)
@click.option("--param", "-p", "pairs", multiple=True, metavar="NAME=VALUE", help="a scenario parameter (repeatable)")
@click.option("--list", "list_them", is_flag=True, help="list the scenarios and their parameters")
@state_dir_option
@port_option
@click.option("--json", "as_json", is_flag=True)
def fail(scenario: str | None, pairs: tuple[str, ...], list_them: bool, state_dir: str | None, port: int | None,
         as_json: bool) -> None:
    """Inject a failure scenario now, e.g. lab fail region-outage -p region=us-east-1 -p duration=2h."""
    client = admin(state_dir, port)
    if list_them or not scenario:
        body = client.get("scenarios")
        if as_json:
            _echo_json(body)
            return
        for entry in body["scenarios"]:
            click.echo(f"{entry['name']:24} {entry['title']} ({entry['disruption_type']})")
            for param in entry["parameters"]:
                default = "" if param["default"] in (None, "") else f" [default {_shown(param['default'])}]"
                choices = f" ({'|'.join(param['choices'])})" if param.get("choices") else ""
                click.echo(f"    --param {param['name']}=<{param['type']}>{choices}{default}  {param['help']}")
        if not scenario and not list_them:
            click.echo("\nusage: lab fail SCENARIO [--param NAME=VALUE ...]")
        return
    injection = client.post("fail", {"scenario": scenario, "params": _params(pairs)})
    if as_json:
        _echo_json(injection)
    else:
        click.echo(_injection_line(injection))
        for key, value in injection["outcome"].items():
            click.echo(f"    {key}: {_short(value)}")
    if injection["status"] == "failed":
        raise SystemExit(1)


@click.command()
@state_dir_option
@port_option
@click.option("--json", "as_json", is_flag=True)
def recover(state_dir: str | None, port: int | None, as_json: bool) -> None:
    """End every active failure: scenarios, FIS experiments, fault rules, Chaos API faults."""
    body = admin(state_dir, port).post("recover")
    if as_json:
        _echo_json(body)
        return
    if not (body["injections_ended"] or body["experiments_stopped"] or body["rules_removed"] or body["chaos_cleared"]):
        click.echo("nothing was active")
        return
    click.echo(f"ended {len(body['injections_ended'])} injection(s), stopped {len(body['experiments_stopped'])} "
               f"FIS experiment(s), removed {len(body['rules_removed'])} fault rule(s)"
               + ("; cleared the Chaos API's faults" if body["chaos_cleared"] else ""))


@click.command()
@click.option("--all", "include_ended", is_flag=True, help="also what has ended")
@state_dir_option
@port_option
@click.option("--json", "as_json", is_flag=True)
def faults(include_ended: bool, state_dir: str | None, port: int | None, as_json: bool) -> None:
    """What failures are active: scenario runs, FIS experiments, fault rules, and what they hold down."""
    body = admin(state_dir, port).get("faults" + ("?all=1" if include_ended else ""))
    if as_json:
        _echo_json(body)
        return
    lines = [_injection_line(injection) for injection in body["injections"]]
    lines += [f"FIS experiment {e['id']} ({e['experimentTemplateId']}): "
              f"{e['state']['status']} -- {e['state']['reason']}"
              for e in body["experiments"]]
    lines += [f"rule {rule['id']} ({rule['source']}): {_rule_text(rule)}" for rule in body["rules"]
              if rule["source"] == "lab"]
    lines += [f"Chaos API rule: {json.dumps(rule)}" for rule in body["chaos"]["faults"]]
    if body["chaos"]["effects"]["latency"]:
        lines.append(f"Chaos API latency: {body['chaos']['effects']['latency']} ms on every call")
    for label, key in (("regions down", "regions_down"), ("replication paused", "replication_paused"),
                       ("volume I/O paused", "volumes_io_paused"), ("databases unreachable", "databases_unavailable"),
                       ("endpoints down", "endpoints_down")):
        if body[key]:
            lines.append(f"{label}: {', '.join(body[key])}")
    click.echo("\n".join(lines) if lines else "no faults are active")


@click.command()
@click.argument("lab_id", metavar="LAB")
@click.option("--end", "end_id", default=None, metavar="DRILL", help="stop measuring a running drill instead")
@state_dir_option
@port_option
@click.option("--json", "as_json", is_flag=True)
def drill(lab_id: str, end_id: str | None, state_dir: str | None, port: int | None, as_json: bool) -> None:
    """Run LAB's drill: inject its failure now; the sandbox measures RTO and RPO until you have recovered."""
    client = admin(state_dir, port)
    body = client.post(f"drills/{end_id}/end") if end_id else client.post("drills", {"lab": lab_id})
    if as_json:
        _echo_json(body)
        return
    if end_id:
        click.echo(_drill_line(body))
        return
    if body["status"] == "ended":
        raise click.ClickException(f"{body['id']} of lab {body['lab']} ended at once: {body['end_reason']}")
    targets = body["targets"]
    click.echo(f"{body['id']}: {body['scenario']} injected at {body['incident_time']} for lab {body['lab']} "
               f"(targets: RTO {targets['rto_seconds']}s, RPO {targets['rpo_seconds']}s)")
    click.echo("the sandbox now checks your recovery in sim time; `lab drills` shows the measured RTO and RPO")


@click.command()
@click.argument("drill_id", required=False, metavar="[DRILL]")
@state_dir_option
@port_option
@click.option("--json", "as_json", is_flag=True)
def drills(drill_id: str | None, state_dir: str | None, port: int | None, as_json: bool) -> None:
    """Drills run so far and their measured RTO/RPO (DRILL: one drill, in full)."""
    client = admin(state_dir, port)
    if drill_id:
        body = client.get(f"drills/{drill_id}")
        if as_json:
            _echo_json(body)
            return
        click.echo(_drill_line(body))
        for check in body["last_checks"]:
            click.echo(f"    {check['status']:14} {check['check_id']} {check['resource_id'] or ''} "
                       f"{check['message'] or ''}")
        if body["error"]:
            click.echo(f"    {body['error']}")
        return
    body = client.get("drills")
    if as_json:
        _echo_json(body)
        return
    click.echo("\n".join(_drill_line(entry) for entry in body["drills"]) or "no drills yet: lab drill LAB starts one")


def _injection_line(injection: dict[str, Any]) -> str:
    window = f"from {injection['starts_at']}"
    if injection["ends_at"]:
        window += f" until {injection['ends_at']}"
    elif injection["status"] == "active":
        window += " until lab recover"
    where = f" [{injection['experiment']}]" if injection["experiment"] else ""
    where += f" [drill {injection['drill']}]" if injection["drill"] else ""
    text = f"{injection['id']} {injection['name']}{where}: {injection['status']} {window}"
    if injection["end_reason"]:
        text += f" -- {injection['end_reason']}"
    if injection["error"]:
        text += f" -- {injection['error']}"
    return text


def _drill_line(body: dict[str, Any]) -> str:
    rto = f"RTO {body['rto_seconds']}s" if body["rto_seconds"] is not None else "RTO -"
    rpo = body["rpo"]
    return (f"{body['id']} {body['lab']} {body['scenario']}: {body['status']} (incident {body['incident_time']}); "
            f"{rto}, RPO {rpo['span_seconds']}s ({rpo['count']} order(s) lost) against targets "
            f"{body['targets']['rto_seconds']}s/{body['targets']['rpo_seconds']}s: {body['compliance'] or 'measuring'}")


def _rule_text(rule: dict[str, Any]) -> str:
    scope = " ".join(filter(None, [rule["service"] or "every service", rule["region"] or "every region",
                                   ",".join(rule["operations"]) or "every operation"]))
    action = (f"{rule['status_code']} {rule['code']}" if rule["fails"] else "") + (
        f" +{rule['latency_ms']}ms" if rule["latency_ms"] else "")
    return f"{scope} -> {action.strip()} at p={rule['probability']:g} ({rule['injected']}/{rule['seen']} calls hit)"


def _shown(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


def _short(value: Any) -> str:
    if isinstance(value, list) and len(value) > 8:
        return f"{', '.join(map(str, value[:8]))} ... ({len(value)} in all)"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    return str(value)
