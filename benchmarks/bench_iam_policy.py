"""What judging a vault access policy costs with the evaluator the judge and the sandbox share
(checks/iam_policy.py: IAM statements translated to Cedar, decided by cedarpy).

Run: .venv/bin/python benchmarks/bench_iam_policy.py [--repeat 200]
Figures: one evaluation (a DeleteRecoveryPoint the sandbox answers), one explanation (what a failing verdict's
message is built from), and the whole lab 08 check on a vault (every probe caller and network, the recovery
points of the vault), for a plain Deny, a Deny with a condition, and one with `?` wildcards. Timings are never
pass/fail; the CPU reference says how fast this machine was.
"""

from __future__ import annotations

import argparse
import sys
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from checks import iam_policy, registry
from tests.unit.inventory_builder import Inv

POINT = "arn:aws:backup:us-east-1:000000000000:recovery-point:8f1e6b2a-1111-2222-3333-444455556666"
POLICIES = {
    "plain Deny": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "backup:DeleteRecoveryPoint", "Resource": "*"}]},
    "Deny unless the break-glass role": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": ["backup:DeleteRecovery*", "backup:Update*"],
         "Resource": "*", "Condition": {"ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::000000000000:role/bg"},
                                        "BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]},
    "? wildcards and NotResource": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "backup:Delete?ecoveryPoin?",
         "NotResource": "arn:aws:s3:::*",
         "Condition": {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::????????????:*"}}}]},
}


def reference_us() -> float:
    return min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6


def per_call_ms(call, repeat: int) -> float:
    call()
    started = time.perf_counter()
    for _ in range(repeat):
        call()
    return (time.perf_counter() - started) / repeat * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    print(f"CPU reference: sum(range(1000)) takes {reference_us():.1f} us")
    request = iam_policy.Request(iam_policy.Caller.of("arn:aws:iam::000000000000:user/moto"),
                                 "backup:DeleteRecoveryPoint", POINT,
                                 iam_policy.request_keys(source_ip="127.0.0.1", secure=False, now=1.8e9))
    print(f"{'policy':36} {'evaluate':>10} {'explain':>10} {'lab 08 check':>13}")
    for name, document in POLICIES.items():
        policy = iam_policy.parse(document)
        evaluate = per_call_ms(lambda policy=policy: iam_policy.evaluate(policy, request), args.repeat)
        explain = per_call_ms(lambda policy=policy: iam_policy.explain(policy, request), args.repeat)
        inventory = Inv().vault("v", policy=document, points=3).build()
        judged = per_call_ms(lambda inventory=inventory: registry.run(
            "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED", inventory, {"vaultNames": ["v"]}),
            max(args.repeat // 10, 5))
        print(f"{name:36} {evaluate:8.2f}ms {explain:8.2f}ms {judged:11.2f}ms")


if __name__ == "__main__":
    main()
