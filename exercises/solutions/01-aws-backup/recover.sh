#!/usr/bin/env bash
# Lab 01 documented recovery (aws CLI): restore the order history from the newest recovery point before the incident.
#
# Run it with `lab solve 01-aws-backup --recover --tool cli`, or yourself after `eval "$(lab env)"`:
#     bash recover.sh [--before 2026-11-26T10:00:00Z]
# The incident time comes from --before or LAB_INCIDENT_TIME (`lab drills` shows it).
set -euo pipefail
: "${AWS_ENDPOINT_URL:?run  eval \"\$(lab env)\"  first}"
aws() { command aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }

REGION=us-east-1
ACCOUNT=000000000000
VAULT=securecart-vault
TABLE=securecart-order-history
BEFORE=${LAB_INCIDENT_TIME:-}
if [[ ${1:-} == --before ]]; then BEFORE=$2; fi

# The newest completed recovery point of the table that is older than the incident.
POINT=$(aws backup list-recovery-points-by-backup-vault --region "$REGION" --backup-vault-name "$VAULT" \
          --by-resource-arn "arn:aws:dynamodb:$REGION:$ACCOUNT:table/$TABLE" --output json |
        python3 -c '
import json, sys
from datetime import datetime
def epoch(value):
    return float(value) if isinstance(value, (int, float)) else datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
limit = epoch(sys.argv[1]) if sys.argv[1] else float("inf")
points = [p for p in json.load(sys.stdin)["RecoveryPoints"] if p["Status"] == "COMPLETED" and epoch(p["CreationDate"]) < limit]
print(max(points, key=lambda p: epoch(p["CreationDate"]))["RecoveryPointArn"] if points else "")' "$BEFORE")
if [[ -z $POINT ]]; then
  echo "no completed recovery point of $TABLE in $VAULT before ${BEFORE:-now}: was a backup taken before the incident?" >&2
  exit 1
fi

# A deleted table comes back under its own name; if it still exists, beside it under a new name.
TARGET=$TABLE
if aws dynamodb describe-table --region "$REGION" --table-name "$TABLE" >/dev/null 2>&1; then TARGET=$TABLE-restored; fi
echo "restoring $POINT into table $TARGET"
JOB=$(aws backup start-restore-job --region "$REGION" --recovery-point-arn "$POINT" \
        --iam-role-arn "arn:aws:iam::$ACCOUNT:role/AWSBackupDefaultServiceRole" --resource-type DynamoDB \
        --metadata "TargetTableName=$TARGET" --query RestoreJobId --output text)
echo "restore job $JOB: $(aws backup describe-restore-job --region "$REGION" --restore-job-id "$JOB" --query Status --output text)"
