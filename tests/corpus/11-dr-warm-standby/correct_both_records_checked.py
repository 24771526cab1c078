"""Correct, and more than asked: the standby is a t3.micro, and both failover records carry a health check
(the SECONDARY's watches the standby), with a shorter TTL; the replica has another name."""

import json
import os
import runpy
import urllib.request
from pathlib import Path

LAB = "11-dr-warm-standby"
SOLUTION = Path(__file__).resolve().parents[3] / "exercises" / "solutions" / LAB / "solve.py"
EXPECT: dict[str, str] = {}


def advance_clock(duration):
    """What a learner does while AWS works: lab clock advance (the sandbox's admin API)."""
    request = urllib.request.Request(f"{os.environ['AWS_ENDPOINT_URL']}/_lab/clock", method="POST",
                                     data=json.dumps({"action": "advance", "duration": duration}).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=60).read()


def reference():
    """The functions of the lab's reference script (the commands its text gives), not run: the learner follows
    the lab except where this variant says. One look per run: only advance_clock moves sim time here."""
    functions = runpy.run_path(str(SOLUTION), run_name="reference")["main"].__globals__
    functions["wait_until"].__defaults__ = (1,)
    return functions


def until_ready(step):
    """Run a step as `lab solve` does: while it waits for AWS (exit 75), let sim time pass and run it again."""
    for _ in range(48):
        try:
            return step()
        except SystemExit as exc:
            if exc.code != 75:
                raise
        advance_clock("5m")
    raise RuntimeError(f"{step.__name__} still waits after 4 hours of sim time")


def main():
    lab = reference()
    lab["REPLICA"] = "orders-standby"
    until_ready(lab["step_1"])
    standby = lab["second_backend"]("t3.micro", "standby")["PublicIpAddress"]
    primary = lab["backend"]()["PublicIpAddress"]
    lab["aws"]("route53").change_resource_record_sets(HostedZoneId=lab["zone_id"](), ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": {
            "Name": lab["RECORD"], "Type": "A", "SetIdentifier": f"shop-{role.lower()}", "Failover": role,
            "TTL": 30, "HealthCheckId": lab["health_check"](address), "ResourceRecords": [{"Value": address}]}}
        for role, address in (("PRIMARY", primary), ("SECONDARY", standby))]})


if __name__ == "__main__":
    main()
