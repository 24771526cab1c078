"""Near miss: the data replicate and DRS is set up in us-west-2 (initialized, a replication template), but the
replication agent was never installed on the backend: DRS has no source server, nothing of the backend's disks
reaches us-west-2, and there is nothing to launch after an outage."""

import json
import os
import runpy
import urllib.request
from pathlib import Path

LAB = "10-dr-pilot-light"
SOLUTION = Path(__file__).resolve().parents[3] / "exercises" / "solutions" / LAB / "solve.py"
EXPECT = {"DRS_SOURCE_SERVER_REPLICATING": "no_source_server"}


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
    until_ready(lab["step_1"])
    lab["replication_template"]()  # (and no lab drs install-agent)
    lab["primary_dns"]()


if __name__ == "__main__":
    main()
