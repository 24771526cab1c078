"""`lab drs`: Elastic Disaster Recovery's part that is not an AWS call -- installing the replication agent on
an instance -- and where each source server's replication is."""

from __future__ import annotations

import json
from typing import Any

import click

from lab import config
from lab.commands._common import admin, port_option, state_dir_option

#: after `eval "$(lab env)"` the sandbox is the endpoint the learner's tools use: `lab drs` finds it there too
endpoint_option = click.option("--endpoint", envvar="AWS_ENDPOINT_URL", default=None,
                               help="the sandbox's endpoint [env AWS_ENDPOINT_URL, as `lab env` sets it]; "
                                    "default: the sandbox of --state-dir")


def _admin(state_dir: str | None, port: int | None, endpoint: str | None) -> Any:
    if endpoint and not state_dir and not port:
        from lab.admin_client import AdminClient

        return AdminClient(endpoint)  # (it refuses an endpoint off loopback)
    return admin(state_dir, port)


def register(main: click.Group) -> None:
    main.add_command(drs)


@click.group()
def drs() -> None:
    """AWS Elastic Disaster Recovery: the replication agent and the replication's progress."""


@drs.command("install-agent")
@click.argument("instance")
@click.option("--region", default=config.DR_REGION, show_default=True,
              help="the recovery region the agent registers the server in")
@state_dir_option
@port_option
@endpoint_option
@click.option("--json", "as_json", is_flag=True)
def install_agent(instance: str, region: str, state_dir: str | None, port: int | None, endpoint: str | None,
                  as_json: bool) -> None:
    """Install the AWS Replication Agent on INSTANCE (its Name tag or id), as
    `aws-replication-installer-init --region REGION` run on the machine does: it becomes a source server in
    REGION and starts replicating (INITIATING, INITIAL_SYNC, then CONTINUOUS)."""
    body = _admin(state_dir, port, endpoint).post("drs/agents", {"instance": instance, "region": region})
    if as_json:
        click.echo(json.dumps(body, indent=2))
        return
    click.echo(f"source server {body['source_server']} ({body['hostname']}, {body['instance']} in "
               f"{body['origin_region']}) replicates to {body['region']}: {_progress(body)}")
    click.echo(f"follow it: aws drs describe-source-servers --region {region} "
               "--query 'items[].dataReplicationInfo.dataReplicationState'   (or: lab drs status)")


@drs.command("status")
@state_dir_option
@port_option
@endpoint_option
@click.option("--json", "as_json", is_flag=True)
def status(state_dir: str | None, port: int | None, endpoint: str | None, as_json: bool) -> None:
    """Every source server's replication (state, step, percent, lag), the jobs and the recovery instances."""
    body = _admin(state_dir, port, endpoint).get("drs")
    if as_json:
        click.echo(json.dumps(body, indent=2))
        return
    click.echo(f"initialized in: {', '.join(body['initialized']) or 'no region (aws drs initialize-service)'}")
    for server in body["source_servers"]:
        click.echo(f"{server['source_server']} {server['name']} ({server['instance']}, {server['origin_region']} -> "
                   f"{server['region']}): {_progress(server)}")
    for job in body["jobs"]:
        click.echo(f"job {job['job']} {job['type']} {job['initiated_by']}: {job['status']} "
                   f"({', '.join(f'{k} {v}' for k, v in job['servers'].items())})")
    for instance in body["recovery_instances"]:
        kind = "drill" if instance["drill"] else "recovery"
        click.echo(f"{kind} instance {instance['instance']} in {instance['region']} of {instance['source_server']}, "
                   f"data of {instance['point_in_time']}{'' if instance['booted'] else ', booting'}")


def _progress(server: dict) -> str:
    text = server["state"]
    if server.get("step") and server.get("step") != server["state"]:
        text += f" / {server['step']}"
    if server.get("percent") is not None:
        text += f" {server['percent']}% (until {server['until']})"
    if server.get("lag_seconds") is not None:
        text += f", lag {server['lag_seconds']:g}s"
    if server.get("error"):
        text += f", {server['error']}"
    return text
