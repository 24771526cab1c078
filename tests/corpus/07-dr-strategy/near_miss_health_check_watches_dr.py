"""Near miss: warm standby and failover records as in a correct solution, but the health check guarding
the PRIMARY record watches the DR replica in us-west-2: when us-east-1 goes down it stays healthy, and
Route 53 keeps answering the dead primary. Judged by what DNS answers, not by the records' shape."""

import json
import os
import urllib.request
import uuid

import boto3

EXPECT = {"ROUTE53_FAILOVER_CONFIGURED": "primary_answers_when_down"}


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
    rds.modify_db_instance(DBInstanceIdentifier="securecart-orders-db", BackupRetentionPeriod=3, ApplyImmediately=True)
    wait_for(lambda: rds.describe_db_instances(DBInstanceIdentifier="securecart-orders-db")["DBInstances"][0][
        "DBInstanceStatus"])  # a replica's source must be available
    key = aws("kms", "us-west-2").create_key()["KeyMetadata"]["Arn"]
    west.create_db_instance_read_replica(
        DBInstanceIdentifier="orders-dr", SourceDBInstanceIdentifier="arn:aws:rds:us-east-1:000000000000:db:securecart-orders-db",
        SourceRegion="us-east-1", KmsKeyId=key, DBInstanceClass="db.t3.small")
    wait_for(lambda: west.describe_db_instances(DBInstanceIdentifier="orders-dr")["DBInstances"][0]["DBInstanceStatus"])
    replica = west.describe_db_instances(DBInstanceIdentifier="orders-dr")["DBInstances"][0]  # now it has an endpoint
    ec2 = aws("ec2", "us-west-2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ec2.run_instances(ImageId=image, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                      TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "backend-dr"}]}])
    primary = aws("rds").describe_db_instances(DBInstanceIdentifier="securecart-orders-db")["DBInstances"][0]["Endpoint"]
    route53 = aws("route53")
    zone = route53.create_hosted_zone(Name="shop.example.org", CallerReference=str(uuid.uuid4()))["HostedZone"]["Id"]
    # The mistake: one health check, on the replica's address, used for the PRIMARY record.
    watches_dr = route53.create_health_check(CallerReference=str(uuid.uuid4()), HealthCheckConfig={
        "Type": "TCP", "FullyQualifiedDomainName": replica["Endpoint"]["Address"], "Port": 5432})["HealthCheck"]["Id"]
    checks = {"PRIMARY": watches_dr, "SECONDARY": watches_dr}
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {
            "Name": "db.shop.example.org", "Type": "CNAME", "SetIdentifier": role.lower(), "Failover": role, "TTL": 30,
            "HealthCheckId": checks[role], "ResourceRecords": [{"Value": address}]}}
        for role, address in (("PRIMARY", primary["Address"]), ("SECONDARY", replica["Endpoint"]["Address"]))]})


if __name__ == "__main__":
    main()
