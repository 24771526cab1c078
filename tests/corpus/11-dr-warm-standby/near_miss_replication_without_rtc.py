"""Near miss: everything as the lab says, but the invoices replicate by lab 2's rule, without Replication Time
Control: S3 then promises no replication time, and an invoice that waits past the 5-minute RPO (a few wait
hours) is lost with us-east-1."""

import json

from tests.corpus.dr_reference import reference, until_ready

LAB = "11-dr-warm-standby"
EXPECT = {"S3_BUCKET_REPLICATION_ENABLED": "no_replication_time_control"}


def replicate_invoices(lab):
    """Versioning, the role and the older invoices as the lab says; the rule as lab 2 wrote it, without RTC."""
    aws = lab["aws"]
    for region, bucket in (("us-east-1", lab["SOURCE"]), ("us-west-2", lab["DESTINATION"])):
        aws("s3", region).put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role = aws("iam").create_role(RoleName="securecart-invoice-replication",
                                  AssumeRolePolicyDocument=json.dumps(trust))
    aws("s3").put_bucket_replication(Bucket=lab["SOURCE"], ReplicationConfiguration={
        "Role": role["Role"]["Arn"],
        "Rules": [{"ID": "invoices-to-usw2", "Status": "Enabled", "Priority": 1, "Filter": {"Prefix": ""},
                   "DeleteMarkerReplication": {"Status": "Enabled"},
                   "Destination": {"Bucket": f"arn:aws:s3:::{lab['DESTINATION']}"}}]})
    copy_older_invoices(lab)


def copy_older_invoices(lab):
    """The older invoices copied once (what aws s3 sync does)."""
    east, west = lab["aws"]("s3"), lab["aws"]("s3", "us-west-2")
    for page in east.get_paginator("list_objects_v2").paginate(Bucket=lab["SOURCE"]):
        for obj in page.get("Contents", []):
            west.copy_object(Bucket=lab["DESTINATION"], Key=obj["Key"],
                             CopySource={"Bucket": lab["SOURCE"], "Key": obj["Key"]})


def main():
    lab = reference(LAB)
    replicate_invoices(lab)
    lab["replicate_invoices"] = lambda: None  # (done above, the learner's way)
    until_ready(lab["step_1"])
    until_ready(lab["step_2"])
    until_ready(lab["step_3"])


if __name__ == "__main__":
    main()
