"""Near miss: the standby runs and both failover records are there, but the PRIMARY record has no health
check: Route 53 would go on answering the primary's address while us-east-1 is down."""

from tests.corpus.dr_reference import reference, until_ready

LAB = "11-dr-warm-standby"
EXPECT = {"ROUTE53_FAILOVER_CONFIGURED": "primary_without_health_check"}


def main():
    lab = reference(LAB)
    until_ready(lab["step_1"])
    until_ready(lab["step_2"])
    primary = lab["backend"]()["PublicIpAddress"]
    standby = until_ready(lambda: lab["second_backend"]("t3.nano", "warm-standby"))["PublicIpAddress"]
    lab["aws"]("route53").change_resource_record_sets(HostedZoneId=lab["zone_id"](), ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": {
            "Name": lab["RECORD"], "Type": "A", "SetIdentifier": role.lower(), "Failover": role, "TTL": 60,
            "ResourceRecords": [{"Value": address}]}}
        for role, address in (("PRIMARY", primary), ("SECONDARY", standby))]})


if __name__ == "__main__":
    main()
