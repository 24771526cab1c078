#!/usr/bin/env python3
"""Lab 02 documented recovery (boto3): serve the invoices from us-west-2, each back at its version from before
the attack.

Run it with `lab solve 02-s3-crr --recover --tool boto3`, or yourself after `eval "$(lab env)"`:
    python recover.py --before 2026-11-26T10:00:00Z
The incident time comes from --before or LAB_INCIDENT_TIME (`lab drills` shows it). us-east-1 is down, so the
recovery works on the replica bucket: for every invoice whose current version (or delete marker) was written
at or after the incident, the newest version from before it is copied over it and becomes current again.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime

import boto3

DR = "us-west-2"
BUCKET = "securecart-invoices-usw2"
PREFIX = "invoices/"


def aws(service: str, region: str = DR):
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        sys.exit('AWS_ENDPOINT_URL is not set: run  eval "$(lab env)"  first')
    return boto3.client(service, region_name=region, endpoint_url=endpoint)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=os.environ.get("LAB_INCIDENT_TIME"),
                        help="the incident time (ISO 8601)")
    text = parser.parse_args().before
    if not text:
        sys.exit("give the incident time: --before 2026-11-26T10:00:00Z (see `lab drills`)")
    incident = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    s3 = aws("s3")
    versions: dict[str, list[dict]] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=BUCKET, Prefix=PREFIX):
        for entry in page.get("Versions", []):
            versions.setdefault(entry["Key"], []).append(entry)
        for entry in page.get("DeleteMarkers", []):
            versions.setdefault(entry["Key"], []).append({**entry, "DeleteMarker": True})
    restored = untouched = lost = 0
    for key, history in sorted(versions.items()):
        history.sort(key=lambda entry: entry["LastModified"], reverse=True)
        if history[0]["LastModified"] < incident:
            untouched += 1
            continue
        good = next((entry for entry in history if entry["LastModified"] < incident and not entry.get("DeleteMarker")),
                    None)
        if good is None:
            lost += 1  # written after the incident, or never replicated before it: nothing older to go back to
            continue
        s3.copy_object(Bucket=BUCKET, Key=key,
                       CopySource={"Bucket": BUCKET, "Key": key, "VersionId": good["VersionId"]})
        restored += 1
    print(f"{BUCKET}: {restored} invoices restored to their version from before {text}, "
          f"{untouched} were untouched, {lost} have no version from before the incident")


if __name__ == "__main__":
    main()
