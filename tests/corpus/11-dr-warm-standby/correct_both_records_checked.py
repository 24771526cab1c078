"""Correct, and more than asked: the standby is a t3.micro, and both failover records carry a health check
(the SECONDARY's watches the standby), with a shorter TTL; the replica has another name."""

from tests.corpus.dr_reference import reference, until_ready

LAB = "11-dr-warm-standby"
EXPECT: dict[str, str] = {}


def main():
    lab = reference(LAB)
    lab["REPLICA"] = "orders-standby"
    until_ready(lab["step_1"])
    standby = until_ready(lambda: lab["second_backend"]("t3.micro", "standby"))["PublicIpAddress"]
    primary = lab["backend"]()["PublicIpAddress"]
    lab["aws"]("route53").change_resource_record_sets(HostedZoneId=lab["zone_id"](), ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": {
            "Name": lab["RECORD"], "Type": "A", "SetIdentifier": f"shop-{role.lower()}", "Failover": role,
            "TTL": 30, "HealthCheckId": lab["health_check"](address), "ResourceRecords": [{"Value": address}]}}
        for role, address in (("PRIMARY", primary), ("SECONDARY", standby))]})


if __name__ == "__main__":
    main()
