"""Near miss: the pilot light and both failover records are there, but the PRIMARY record has no health
check -- Route 53 would never notice us-east-1 is down."""

import json
import os
import urllib.request

import boto3

EXPECT = {"ROUTE53_FAILOVER_CONFIGURED": "primary_without_health_check"}


def aws(service, region="us-east-1"):
    return boto3.client(service, region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def advance_clock(duration):
    """What a learner does while RDS works: lab clock advance (the sandbox's admin API)."""
    request = urllib.request.Request(f"{os.environ['AWS_ENDPOINT_URL']}/_lab/clock", method="POST",
                                     data=json.dumps({"action": "advance", "duration": duration}).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=60).read()


def wait_for(look, wanted="available"):
    """Look, and let sim time pass until RDS says `wanted` (an hour at most)."""
    for _ in range(60):
        if look() == wanted:
            return
        advance_clock("1m")
    raise RuntimeError(f"still {look()} after an hour")


def main():
    rds, west = aws("rds"), aws("rds", "us-west-2")
    rds.modify_db_instance(DBInstanceIdentifier="securecart-orders-db", BackupRetentionPeriod=7, ApplyImmediately=True)
    wait_for(lambda: rds.describe_db_instances(DBInstanceIdentifier="securecart-orders-db")["DBInstances"][0][
        "DBInstanceStatus"])  # a replica's source must be available
    key = aws("kms", "us-west-2").create_key()["KeyMetadata"]["Arn"]
    west.create_db_instance_read_replica(
        DBInstanceIdentifier="securecart-orders-db-usw2",
        SourceDBInstanceIdentifier="arn:aws:rds:us-east-1:000000000000:db:securecart-orders-db",
        SourceRegion="us-east-1", KmsKeyId=key, DBInstanceClass="db.t3.micro")
    wait_for(lambda: west.describe_db_instances(DBInstanceIdentifier="securecart-orders-db-usw2")["DBInstances"][0][
        "DBInstanceStatus"])
    replica = west.describe_db_instances(DBInstanceIdentifier="securecart-orders-db-usw2")["DBInstances"][0]
    primary = aws("rds").describe_db_instances(DBInstanceIdentifier="securecart-orders-db")["DBInstances"][0]["Endpoint"]
    route53 = aws("route53")
    zone = route53.create_hosted_zone(Name="securecart.example.com", CallerReference="lab07-near-miss")["HostedZone"]["Id"]
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {
            "Name": "orders-db.securecart.example.com", "Type": "CNAME", "SetIdentifier": role.lower(),
            "Failover": role, "TTL": 60, "ResourceRecords": [{"Value": address}]}}
        for role, address in (("PRIMARY", primary["Address"]), ("SECONDARY", replica["Endpoint"]["Address"]))]})


if __name__ == "__main__":
    main()
