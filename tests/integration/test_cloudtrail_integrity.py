"""CloudTrail log file integrity validation (hourly signed digest files) and SNS notifications, against a sandbox.

AWS's behaviour: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-intro.html
(a digest every hour, even without log files), .../cloudtrail-log-file-validation-digest-file-structure.html (the
digest's fields and key), .../cloudtrail-log-file-validation-cli.html (`aws cloudtrail validate-logs`),
.../configure-sns-notifications-for-cloudtrail.html and .../cloudtrail-permissions-for-sns-notifications.html
(one notification per log file; a topic policy that does not let CloudTrail publish is refused).
"""

from __future__ import annotations

import binascii
import gzip
import hashlib
import json
import os
import re
import signal
import subprocess
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from tests.integration._data_plane import BIN, advance, moment, sim_now

ACCOUNT = "000000000000"


def log_policy(bucket: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}"},
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{ACCOUNT}/*"}]})


def topic_policy(topic_arn: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AWSCloudTrailSNSPolicy", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "SNS:Publish", "Resource": topic_arn}]})


def error_code(call: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"]


def keys_under(s3: Any, bucket: str, prefix: str) -> list[str]:
    return [item["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])]


def validate_logs(sandbox: Any, arn: str, start: str, end: str) -> subprocess.CompletedProcess[str]:
    """`aws cloudtrail validate-logs` as a learner runs it after `eval "$(lab env)"`."""
    env = sandbox.tool_env("us-east-1")
    return subprocess.run(
        [str(BIN / "aws"), "--endpoint-url", env["AWS_ENDPOINT_URL"], "cloudtrail", "validate-logs",
         "--trail-arn", arn, "--start-time", start, "--end-time", end, "--verbose"],
        env=env, capture_output=True, text=True, timeout=180, check=False)


def test_digests_sign_the_log_files_and_validate_logs_finds_tampering(fresh_sandbox):
    sandbox = fresh_sandbox
    sandbox.up()
    s3, trail = sandbox.client("s3"), sandbox.client("cloudtrail")
    sns, sqs = sandbox.client("sns"), sandbox.client("sqs")
    bucket, name = "ct-integrity-logs", "integrity-trail"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=log_policy(bucket))
    topic = sns.create_topic(Name="ct-deliveries")["TopicArn"]
    queue = sqs.create_queue(QueueName="ct-deliveries")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})

    # A topic whose policy does not let CloudTrail publish (the default one) is refused, as are missing topics.
    assert error_code(lambda: trail.create_trail(Name=name, S3BucketName=bucket, SnsTopicName="ct-deliveries")) \
        == "InsufficientSnsTopicPolicyException"
    assert error_code(lambda: trail.create_trail(Name=name, S3BucketName=bucket, SnsTopicName="no-such-topic")) \
        == "InsufficientSnsTopicPolicyException"
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=topic_policy(topic))
    created = trail.create_trail(Name=name, S3BucketName=bucket, SnsTopicName="ct-deliveries",
                                 EnableLogFileValidation=True, IsMultiRegionTrail=True)
    arn = created["TrailARN"]
    assert created["LogFileValidationEnabled"] and created["SnsTopicARN"] == topic
    trail.start_logging(Name=name)
    started = sim_now(sandbox)

    for index in range(3):
        s3.create_bucket(Bucket=f"ct-integrity-marker-{index}")
        sandbox.client("dynamodb", "us-west-2").list_tables()
        advance(sandbox, "20m")
    advance(sandbox, "2h")
    ended = sim_now(sandbox)

    logs = keys_under(s3, bucket, f"AWSLogs/{ACCOUNT}/CloudTrail/")
    digests = keys_under(s3, bucket, f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/")
    pattern = re.compile(rf"AWSLogs/{ACCOUNT}/CloudTrail-Digest/(us-east-1|us-west-2)/\d{{4}}/\d{{2}}/\d{{2}}/"
                         rf"{ACCOUNT}_CloudTrail-Digest_\1_{name}_us-east-1_\d{{8}}T\d{{6}}Z\.json\.gz")
    assert digests and all(pattern.fullmatch(key) for key in digests), digests
    # Every hour, per region, a digest, with or without log files in it (3 hours of logging, on the hour).
    hours = int(ended // 3600) - int(started // 3600)
    assert sum("/us-east-1/" in key for key in digests) == sum("/us-west-2/" in key for key in digests) == hours

    # Each digest as AWS's fields say; the log files' hashes; the chain; the signature with ListPublicKeys' key.
    public = trail.list_public_keys(StartTime=moment(started) - timedelta(hours=1),
                                    EndTime=moment(ended) + timedelta(hours=2))["PublicKeyList"]
    assert len(public) == 1 and re.fullmatch(r"[0-9a-f]{32}", public[0]["Fingerprint"])
    key = serialization.load_der_public_key(public[0]["Value"])
    listed: list[str] = []
    previous_signature: str | None = None
    for digest_key in sorted(k for k in digests if "/us-east-1/" in k):
        answer = s3.get_object(Bucket=bucket, Key=digest_key)
        raw = gzip.decompress(answer["Body"].read())
        document = json.loads(raw)
        assert answer["Metadata"]["signature-algorithm"] == "SHA256withRSA"
        assert document["digestS3Object"] == digest_key and document["digestS3Bucket"] == bucket
        assert document["digestPublicKeyFingerprint"] == public[0]["Fingerprint"]
        assert document["previousDigestSignature"] == previous_signature
        to_sign = (f"{document['digestEndTime']}\n{bucket}/{digest_key}\n{hashlib.sha256(raw).hexdigest()}\n"
                   f"{previous_signature or 'null'}").encode()
        key.verify(binascii.unhexlify(answer["Metadata"]["signature"]), to_sign, padding.PKCS1v15(),
                   hashes.SHA256())
        for log in document["logFiles"]:
            body = gzip.decompress(s3.get_object(Bucket=log["s3Bucket"], Key=log["s3Object"])["Body"].read())
            assert hashlib.sha256(body).hexdigest() == log["hashValue"] and log["hashAlgorithm"] == "SHA-256"
            listed.append(log["s3Object"])
        previous_signature = answer["Metadata"]["signature"]
    east_logs = [log for log in logs if "/CloudTrail/us-east-1/" in log]
    # The digests' metadata is theirs alone (log files, JSON objects too, carry none).
    assert s3.get_object(Bucket=bucket, Key=logs[0])["Metadata"] == {}
    assert sorted(listed) == sorted(east_logs)

    # One SNS notification per log file delivered, to the subscribed queue.
    notified: list[str] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            break
        for message in messages:
            body = json.loads(message["Body"])
            assert body["s3Bucket"] == bucket
            notified.extend(body["s3ObjectKey"])
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    assert sorted(notified) == sorted(logs)
    status = trail.get_trail_status(Name=name)
    assert status["LatestDigestDeliveryTime"] <= moment(ended) and status["LatestNotificationTime"]
    assert "LatestNotificationError" not in status and "LatestDigestDeliveryError" not in status

    # The aws CLI's validate-logs against the sandbox: all valid, then a changed and a deleted log file INVALID.
    start_text = moment(started - 60).strftime("%Y-%m-%dT%H:%M:%SZ")
    end_text = moment(ended).strftime("%Y-%m-%dT%H:%M:%SZ")
    result = validate_logs(sandbox, arn, start_text, end_text)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{hours}/{hours} digest files valid" in result.stdout, result.stdout
    assert f"{len(east_logs)}/{len(east_logs)} log files valid" in result.stdout, result.stdout
    tampered, deleted = east_logs[0], east_logs[-1]
    changed = gzip.decompress(s3.get_object(Bucket=bucket, Key=tampered)["Body"].read()).replace(
        b"ct-integrity-marker", b"ct-integrity-mallory")
    s3.put_object(Bucket=bucket, Key=tampered, Body=gzip.compress(changed))
    s3.delete_object(Bucket=bucket, Key=deleted)
    result = validate_logs(sandbox, arn, start_text, end_text)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"s3://{bucket}/{tampered}\tINVALID: hash value doesn't match" in result.stderr, result.stderr
    assert f"s3://{bucket}/{deleted}\tINVALID: not found" in result.stderr, result.stderr
    assert f"2/{len(east_logs)} log files INVALID" in result.stdout, result.stdout

    # After kill -9 the journal replays the world: the same key (derived from the seed) signs the digests again,
    # whose chain holds; the changed and the deleted log file are still found. (Read-only calls are not journaled,
    # so the replayed log files hold only the state-changing records: the digests are new, the verdicts the same.)
    os.kill(sandbox.pid(), signal.SIGKILL)
    sandbox.up()
    s3, trail = sandbox.client("s3"), sandbox.client("cloudtrail")
    assert trail.list_public_keys()["PublicKeyList"][0]["Fingerprint"] == public[0]["Fingerprint"]
    replayed = validate_logs(sandbox, arn, start_text, end_text)
    assert replayed.returncode == 1 and f"{hours}/{hours} digest files valid" in replayed.stdout, replayed.stdout
    assert f"s3://{bucket}/{tampered}\tINVALID: hash value doesn't match" in replayed.stderr, replayed.stderr
    assert f"s3://{bucket}/{deleted}\tINVALID: not found" in replayed.stderr, replayed.stderr

    # A bucket policy that stops CloudTrail writing is a digest delivery error; put back, digests flow again.
    s3.delete_bucket_policy(Bucket=bucket)
    advance(sandbox, "1h")
    assert trail.get_trail_status(Name=name)["LatestDigestDeliveryError"] == "AccessDenied"
    s3.put_bucket_policy(Bucket=bucket, Policy=log_policy(bucket))
    advance(sandbox, "1h")
    assert "LatestDigestDeliveryError" not in trail.get_trail_status(Name=name)

    # Stopping logging stops the digests (AWS: no digest while a trail does not log).
    trail.stop_logging(Name=name)
    count = len(keys_under(s3, bucket, f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/"))
    advance(sandbox, "3h")
    assert len(keys_under(s3, bucket, f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/")) == count


def test_update_trail_checks_the_topic_policy(sandbox):
    s3, trail, sns = sandbox.client("s3"), sandbox.client("cloudtrail"), sandbox.client("sns")
    bucket, name = "ct-topic-update-logs", "topic-update-trail"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=log_policy(bucket))
    trail.create_trail(Name=name, S3BucketName=bucket)
    closed = sns.create_topic(Name="ct-topic-closed")["TopicArn"]
    assert error_code(lambda: trail.update_trail(Name=name, SnsTopicName=closed)) == \
        "InsufficientSnsTopicPolicyException"
    env = sandbox.tool_env("us-east-1")
    refused = subprocess.run([str(BIN / "aws"), "--endpoint-url", env["AWS_ENDPOINT_URL"], "cloudtrail",
                              "update-trail", "--name", name, "--sns-topic-name", "ct-topic-closed"],
                             env=env, capture_output=True, text=True, timeout=120, check=False)
    assert refused.returncode != 0 and "InsufficientSnsTopicPolicyException" in refused.stderr, refused.stderr
    assert "SNS:Publish" in refused.stderr and "cloudtrail.amazonaws.com" in refused.stderr
    assert "SnsTopicARN" not in trail.get_trail(Name=name)["Trail"]
    sns.set_topic_attributes(TopicArn=closed, AttributeName="Policy", AttributeValue=topic_policy(closed))
    updated = trail.update_trail(Name=name, SnsTopicName=closed)  # an ARN is accepted as well as a name
    assert updated["SnsTopicARN"] == closed and updated["SnsTopicName"] == "ct-topic-closed"
    assert "SnsTopicARN" not in trail.update_trail(Name=name, SnsTopicName="")  # an empty name removes it
    trail.delete_trail(Name=name)
