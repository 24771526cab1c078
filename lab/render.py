"""Rich renderings shared by CLI commands."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table


def status_table(body: dict[str, Any]) -> Group:
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    uptime = body.get("uptime_seconds", 0)
    head.add_row("endpoint", body["endpoint"])
    head.add_row("backend", body["backend"])
    head.add_row("uptime", f"{int(uptime // 3600)}h {int(uptime % 3600 // 60)}m {int(uptime % 60)}s")
    head.add_row("regions", ", ".join(body["regions"]))
    head.add_row("account", body.get("account_id", ""))
    head.add_row("state dir", body["state_dir"])
    head.add_row("pid", str(body.get("pid")))
    clock = body.get("clock")
    if clock:
        head.add_row("sim clock", f"{clock.get('now')} ({'paused' if clock.get('paused') else 'running'}, speed "
                                  f"{clock.get('speed')}x)")
    storage = body.get("storage")
    if storage:
        state = "[red bold]DISK FULL: changes refused[/]" if storage.get("disk_full") else "ok"
        records = storage.get("journal_records", 0)
        head.add_row("storage", f"{state}; journal {records} change{'' if records == 1 else 's'} since the last "
                                f"snapshot; fsync {storage.get('fsync')}")
    detail = body.get("backend_detail") or {}
    if detail.get("mode") == "host":
        head.add_row("localstack", f"{detail.get('endpoint')} (pid {detail.get('pid')}, Python {detail.get('python')})")
        head.add_row("localstack log", str(detail.get("log")))
    parts: list[Any] = [head]
    resources = body.get("resources") or {}
    regions = [r for r in body["regions"] if r in resources]
    if regions:
        table = Table(title="resources", title_justify="left")
        table.add_column("kind")
        for region in regions:
            table.add_column(region, justify="right")
        kinds = sorted({kind for region in regions for kind in resources[region]})
        for kind in kinds:
            table.add_row(kind.replace("_", " "), *(str(resources[r].get(kind, 0)) for r in regions))
        parts.append(table)
    if "orders" in resources:
        parts.append(f"orders in the world: {resources['orders'].get('rds_rows', 0)}")
    for warning in body.get("warnings", []):
        parts.append(f"[yellow]warning:[/] {warning}")
    return Group(*parts)


def doctor_tables(report: dict[str, Any]) -> list[Any]:
    services = Table(title=f"backend {report['backend']}: services ({report['source']})", title_justify="left")
    services.add_column("service")
    services.add_column("status")
    services.add_column("detail", overflow="fold")
    for name, info in sorted(report["services"].items()):
        colour = {"supported": "green", "unsupported": "red"}.get(info["status"], "yellow")
        services.add_row(name, f"[{colour}]{info['status']}[/]", info["detail"])
    labs = Table(title="labs", title_justify="left")
    labs.add_column("lab")
    labs.add_column("runnable")
    labs.add_column("missing")
    for lab_id, info in report["labs"].items():
        labs.add_row(lab_id, "[green]yes[/]" if info["runnable"] else "[red]no[/]", ", ".join(info["missing"]) or "-")
    out: list[Any] = [services, labs]
    if report.get("tools"):
        tools = Table(title="your tools", title_justify="left")
        tools.add_column("tool")
        tools.add_column("version", overflow="fold")
        tools.add_column("path", overflow="fold")
        for tool in report["tools"]:
            tools.add_row(tool["name"], tool["version"] or "-", tool["path"] or "-")
        out.append(tools)
        out.extend(f"[yellow]warning:[/] {tool['name']}: {warning}"
                   for tool in report["tools"] for warning in tool["warnings"])
    if report.get("prerequisites"):
        out.append(f"prerequisites: {report['prerequisites']}")
    return out
