#!/usr/bin/env bash
# Lab 02 documented recovery (aws CLI): serve the invoices from us-west-2, each back at its version from before the attack.
#
# Run it with `lab solve 02-s3-crr --recover --tool cli`, or yourself after `eval "$(lab env)"`:
#     bash recover.sh --before 2026-11-26T10:00:00Z
# us-east-1 is down, so the recovery works on the replica bucket: for every invoice whose current version (or
# delete marker) was written at or after the incident, the newest version from before it is copied over it.
set -euo pipefail
: "${AWS_ENDPOINT_URL:?run  eval \"\$(lab env)\"  first}"
aws() { command aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }

BUCKET=securecart-invoices-usw2
BEFORE=${LAB_INCIDENT_TIME:-}
if [[ ${1:-} == --before ]]; then BEFORE=$2; fi
[[ -n $BEFORE ]] || { echo "give the incident time: --before 2026-11-26T10:00:00Z (see lab drills)" >&2; exit 2; }

# key<TAB>version id of the version to bring back, for every invoice the attack touched.
aws s3api list-object-versions --region us-west-2 --bucket "$BUCKET" --prefix invoices/ --output json |
python3 -c '
import json, sys
from datetime import datetime
def epoch(value):
    return float(value) if isinstance(value, (int, float)) else datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
incident = epoch(sys.argv[1])
listing = json.load(sys.stdin)
history = {}
for entry in listing.get("Versions") or []:
    history.setdefault(entry["Key"], []).append((epoch(entry["LastModified"]), entry["VersionId"], False))
for entry in listing.get("DeleteMarkers") or []:
    history.setdefault(entry["Key"], []).append((epoch(entry["LastModified"]), entry["VersionId"], True))
for key, entries in sorted(history.items()):
    entries.sort(reverse=True)
    if entries[0][0] < incident:
        continue
    good = [version for when, version, marker in entries if when < incident and not marker]
    if good:
        print(f"{key}\t{good[0]}")' "$BEFORE" |
while IFS=$'\t' read -r key version; do
  aws s3api copy-object --region us-west-2 --bucket "$BUCKET" --key "$key" \
    --copy-source "$BUCKET/$key?versionId=$version" >/dev/null
  echo "restored $key (version $version)"
done
