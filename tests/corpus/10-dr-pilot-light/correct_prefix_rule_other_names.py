"""Correct, with other names: the replica is called securecart-orders-dr, the invoices replicate by a rule
that covers only the invoices/ prefix (with Replication Time Control, its blocks in another order), through a
role of the learner's naming; the backend replicates by DRS as the lab says."""

import json
import os
import runpy
import urllib.request
from pathlib import Path

LAB = "10-dr-pilot-light"
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


def replicate_invoices(lab):
    aws = lab["aws"]
    for region, bucket in (("us-east-1", lab["SOURCE"]), ("us-west-2", lab["DESTINATION"])):
        aws("s3", region).put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role = aws("iam").create_role(RoleName="invoices-crr-west", AssumeRolePolicyDocument=json.dumps(trust))
    aws("s3").put_bucket_replication(Bucket=lab["SOURCE"], ReplicationConfiguration={
        "Role": role["Role"]["Arn"],
        "Rules": [{"ID": "invoices-only", "Status": "Enabled", "Priority": 10, "Filter": {"Prefix": "invoices/"},
                   "DeleteMarkerReplication": {"Status": "Disabled"},
                   "Destination": {"Bucket": f"arn:aws:s3:::{lab['DESTINATION']}", "StorageClass": "STANDARD_IA",
                                   "Metrics": {"EventThreshold": {"Minutes": 15}, "Status": "Enabled"},
                                   "ReplicationTime": {"Time": {"Minutes": 15}, "Status": "Enabled"}}}]})


def main():
    lab = reference()
    lab["REPLICA"] = "securecart-orders-dr"
    replicate_invoices(lab)
    lab["replicate_invoices"] = lambda: None  # (done above, the learner's way)
    until_ready(lab["step_1"])
    until_ready(lab["step_2"])


if __name__ == "__main__":
    main()
