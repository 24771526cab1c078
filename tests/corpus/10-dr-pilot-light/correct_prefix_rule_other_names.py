"""Correct, with other names: the replica is called securecart-orders-dr, the invoices replicate by a rule
that covers only the invoices/ prefix (with Replication Time Control, its blocks in another order), through a
role of the learner's naming; the backend replicates by DRS as the lab says."""

import json

from tests.corpus.dr_reference import reference, until_ready

LAB = "10-dr-pilot-light"
EXPECT: dict[str, str] = {}


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
    lab = reference(LAB)
    lab["REPLICA"] = "securecart-orders-dr"
    replicate_invoices(lab)
    lab["replicate_invoices"] = lambda: None  # (done above, the learner's way)
    until_ready(lab["step_1"])
    until_ready(lab["step_2"])


if __name__ == "__main__":
    main()
