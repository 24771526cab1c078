"""`lab fail`, `lab recover`, `lab faults`, `lab drill`, `lab drills`: failures by hand and a lab's drill."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click

from lab.commands._common import admin, exercises_option, learner_option, port_option, state_dir_option, state_dir_path
from lab.commands.exercises import exercise_dirs
from lab.errors import LabError


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
@click.option("--region", default=None, metavar="REGION", help="the same as --param region=REGION")
@click.option("--list", "list_them", is_flag=True, help="list the scenarios and their parameters")
@state_dir_option
@port_option
@click.option("--json", "as_json", is_flag=True)
def fail(scenario: str | None, pairs: tuple[str, ...], region: str | None, list_them: bool, state_dir: str | None,
         port: int | None, as_json: bool) -> None:
    """Inject a failure scenario now, e.g. lab fail region-outage --region us-east-1 -p duration=2h."""
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
    params = _params(pairs)
    if region is not None:
        if params.get("region", region) != region:
            raise click.BadParameter(f"--region {region} and --param region={params['region']} disagree: give one",
                                     param_hint="--region")
        params["region"] = region
    injection = client.post("fail", {"scenario": scenario, "params": params})
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
@click.option("--show", "show_only", is_flag=True,
              help="print the drill's briefing and how to recover again; injects nothing")
@click.option("--hint", "next_hint", is_flag=True,
              help="reveal the next recovery hint (hints used are counted in your progress); injects nothing")
@exercises_option
@learner_option
@state_dir_option
@port_option
@click.option("--json", "as_json", is_flag=True)
def drill(lab_id: str, end_id: str | None, show_only: bool, next_hint: bool, exercises_dir: Path | None,
          learner: str | None, state_dir: str | None, port: int | None, as_json: bool) -> None:
    """Run LAB's drill: inject its failure now, and print its briefing and how to recover; the sandbox
    measures RTO and RPO until you have recovered."""
    if sum((bool(end_id), show_only, next_hint)) > 1:
        raise click.UsageError("--end, --show and --hint each do something else: give one of them")
    from lab import exercises as catalog  # (YAML: only the commands that read an exercise file load it)

    if show_only or next_hint:
        exercise = catalog.load(lab_id, exercise_dirs(exercises_dir))
        if next_hint:
            _reveal_recovery_hint(exercise, state_dir_path(state_dir), learner)
        else:
            _echo_drill_text(exercise, started=True)
        return
    client = admin(state_dir, port)
    running = [] if end_id else [d["id"] for d in client.get("drills")["drills"] if d["status"] == "running"]
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
               f"(targets: RTO {human_duration(targets['rto_seconds'])}, "
               f"RPO {human_duration(targets['rpo_seconds'])})")
    for superseded in running:
        before = client.get(f"drills/{superseded}")
        if before.get("lab") == body["lab"] and before.get("status") == "ended":
            click.echo(f"({superseded}, the drill of this lab that was still running, has ended unrecovered: its "
                       "policy counts as breached)")
    click.echo("the sandbox now checks your recovery in sim time; `lab drills` shows the measured RTO and RPO")
    try:
        exercise = catalog.load(body["lab"], exercise_dirs(exercises_dir))
    except LabError:
        click.echo(f"(the briefing and recovery steps are in lab {body['lab']}'s exercise file; give its folder "
                   "with --exercises to print them here)")
        return
    _echo_drill_text(exercise, started=True, incident_time=body["incident_time"])


#: a briefing that opens with the hour it was written for ("11:40 UTC: ..."): a started drill shows its own
_BRIEFING_HOUR = re.compile(r"^\d{2}:\d{2} UTC(?=[.:] )")


def _echo_drill_text(exercise: Any, *, started: bool, incident_time: str | None = None) -> None:
    """The drill's scenarios, its briefing and, once started, how to recover and how many hints there are.
    Markdown is printed as written: its commands stay whole for copying."""
    spec = exercise.drill
    if spec is None:
        raise LabError(f"lab {exercise.id} has no drill")
    for after, scenario, params in spec.schedule()[1:]:
        shown = ", ".join(f"{k}={v}" for k, v in sorted(params.items()))
        click.echo(f"then {scenario}{f' ({shown})' if shown else ''} at incident + {human_duration(after)}")
    briefing = spec.briefing_md.strip()
    if briefing and incident_time:
        briefing = _BRIEFING_HOUR.sub(f"{incident_time[11:16]} UTC", briefing)
    if briefing:
        click.echo(f"\n== Briefing\n{briefing}")
    if started and exercise.recovery_instructions_md.strip():
        click.echo(f"\n== Recover\n{exercise.recovery_instructions_md.strip()}")
    hints = len(exercise.recovery_hints)
    if started and hints:
        click.echo(f"\n{hints} recovery hint{'s' if hints != 1 else ''}: `lab drill {exercise.id} --hint` "
                   "reveals the next one (hints used are counted)")


def _reveal_recovery_hint(exercise: Any, state_dir: Path, learner: str | None) -> None:
    """Count one more recovery hint (as the TUI's Drill tab does) and print every one revealed so far."""
    from lab import progress
    from lab.grading import RECOVER_STEP_ID

    total = len(exercise.recovery_hints)
    if not total:
        click.echo(f"lab {exercise.id}'s drill has no recovery hints")
        return
    before = progress.load(state_dir, learner).lab(exercise.id).hints_for(RECOVER_STEP_ID)
    if before >= total:
        shown = total
    else:
        shown = progress.record_hint(state_dir, exercise.id, RECOVER_STEP_ID, available=total,
                                     learner=learner).hints_for(RECOVER_STEP_ID)
    for number, hint in enumerate(exercise.recovery_hints[:shown], start=1):
        click.echo(f"{number}. {hint}")
    click.echo(f"({shown} of {total} revealed{'' if shown < total else '; that is all of them'})")


@click.command()
@click.argument("drill_id", required=False, metavar="[DRILL]")
@state_dir_option
@port_option
@click.option("--json", "as_json", is_flag=True)
@click.option("--incident", "incident_of", default=None, metavar="LAB",
              help="print only the incident time T of LAB's latest drill (for a shell: T=$(lab drills --incident 03))")
def drills(drill_id: str | None, state_dir: str | None, port: int | None, as_json: bool,
           incident_of: str | None) -> None:
    """Drills run so far and their measured RTO/RPO (DRILL: one drill, in full)."""
    client = admin(state_dir, port)
    if incident_of:
        wanted = incident_of.strip()
        mine = [d for d in client.get("drills")["drills"]
                if d["lab"] == wanted or d["lab"].split("-", 1)[0] == wanted.split("-", 1)[0]]
        if not mine:
            raise LabError(f"lab {wanted} has had no drill yet: start one with lab drill {wanted}")
        click.echo(max(mine, key=lambda d: d["incident_time"])["incident_time"])
        return
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
    rto = f"RTO {human_duration(body['rto_seconds'])}" if body["rto_seconds"] is not None else "RTO -"
    rpo = body["rpo"]
    verdict = COMPLIANCE_WORDS.get(body["compliance"], body["compliance"]) if body["compliance"] else "measuring"
    targets = body["targets"]
    return (f"{body['id']} {body['lab']} {body['scenario']}: {body['status']} (incident {body['incident_time']}); "
            f"{rto}, RPO {human_duration(rpo['span_seconds'])} ({rpo['count']} order(s) lost) against targets "
            f"RTO {human_duration(targets['rto_seconds'])} / RPO {human_duration(targets['rpo_seconds'])}: {verdict}")


COMPLIANCE_WORDS = {"PolicyMet": "policy met", "PolicyBreached": "policy breached"}


def human_duration(seconds: float | None) -> str:
    """45 s, 15 min, 1 h 32 s, 2 d 3 h: as the TUI writes lengths of time."""
    if seconds is None:
        return "-"
    days, rest = divmod(round(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{value} {unit}" for value, unit in ((days, "d"), (hours, "h"), (minutes, "min"), (secs, "s"))
             if value]
    return " ".join(parts) or "0 s"


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
