"""Near miss: the learner turned the order history's stream on -- the first half of making it a global table --
but never added the us-west-2 replica: the second site's backend has no orders to serve, and writes in
us-west-2 go nowhere."""

import json
import os
import runpy
import urllib.request
from pathlib import Path

LAB = "12-dr-active-active"
SOLUTION = Path(__file__).resolve().parents[3] / "exercises" / "solutions" / LAB / "solve.py"
EXPECT = {"DYNAMODB_GLOBAL_TABLE_REPLICA": "no_replica"}


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
    lab["replicate_invoices"]()
    lab["aws"]("dynamodb").update_table(TableName=lab["TABLE"], StreamSpecification={
        "StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})  # (and no ReplicaUpdates)
    lab["step_2"]()
    lab["step_3"]()


if __name__ == "__main__":
    main()
