"""Correct, another way: the global table and the second site as the lab says, and latency records with set
identifiers of the learner's naming, a 30 s TTL, and health checks of their own that look every 30 s and fail
after 2 misses."""

from tests.corpus.dr_reference import reference, until_ready

LAB = "12-dr-active-active"
EXPECT: dict[str, str] = {}


def main():
    lab = reference(LAB)
    until_ready(lab["step_1"])
    until_ready(lab["step_2"])
    aws = lab["aws"]
    route53 = aws("route53")
    changes = []
    for name, region in (("east", "us-east-1"), ("west", "us-west-2")):
        ip = lab["backend"](region)["PublicIpAddress"]
        check = route53.create_health_check(CallerReference=f"shop-{name}", HealthCheckConfig={
            "Type": "TCP", "IPAddress": ip, "Port": 443, "RequestInterval": 30, "FailureThreshold": 2})
        changes.append({"Action": "UPSERT", "ResourceRecordSet": {
            "Name": lab["RECORD"], "Type": "A", "SetIdentifier": f"shop-{name}", "Region": region, "TTL": 30,
            "HealthCheckId": check["HealthCheck"]["Id"], "ResourceRecords": [{"Value": ip}]}})
    route53.change_resource_record_sets(HostedZoneId=lab["zone_id"](), ChangeBatch={"Changes": changes})


if __name__ == "__main__":
    main()
