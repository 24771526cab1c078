"""Near miss: the pilot light and both failover records are there, but the PRIMARY record has no health
check -- Route 53 would never notice us-east-1 is down."""

import os

import boto3

EXPECT = {"ROUTE53_FAILOVER_CONFIGURED": "primary_without_health_check"}


def aws(service, region="us-east-1"):
    return boto3.client(service, region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def main():
    aws("rds").modify_db_instance(DBInstanceIdentifier="securecart-orders-db", BackupRetentionPeriod=7,
                                  ApplyImmediately=True)
    key = aws("kms", "us-west-2").create_key()["KeyMetadata"]["Arn"]
    replica = aws("rds", "us-west-2").create_db_instance_read_replica(
        DBInstanceIdentifier="securecart-orders-db-usw2",
        SourceDBInstanceIdentifier="arn:aws:rds:us-east-1:000000000000:db:securecart-orders-db",
        SourceRegion="us-east-1", KmsKeyId=key, DBInstanceClass="db.t3.micro")["DBInstance"]
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
