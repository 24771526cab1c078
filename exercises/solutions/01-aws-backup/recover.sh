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

# Run again, this waits for the restore job it started (the restore takes minutes: PENDING, then RUNNING).
JOB=$(aws backup list-restore-jobs --region "$REGION" --by-resource-type DynamoDB --output text --query \
        "reverse(sort_by(RestoreJobs[?RecoveryPointArn == '$POINT' && Status != 'FAILED'], &CreationDate))[0].RestoreJobId")
if [[ -z $JOB || $JOB == None ]]; then
  # A deleted table comes back under its own name; if it still exists, beside it under a new name.
  TARGET=$TABLE
  if aws dynamodb describe-table --region "$REGION" --table-name "$TABLE" >/dev/null 2>&1; then TARGET=$TABLE-restored; fi
  echo "restoring $POINT into table $TARGET"
  JOB=$(aws backup start-restore-job --region "$REGION" --recovery-point-arn "$POINT" \
          --iam-role-arn "arn:aws:iam::$ACCOUNT:role/AWSBackupDefaultServiceRole" --resource-type DynamoDB \
          --metadata "targetTableName=$TARGET" --query RestoreJobId --output text)
fi
for i in 1 2 3; do
  read -r STATUS DONE MINUTES CREATED < <(aws backup describe-restore-job --region "$REGION" --restore-job-id "$JOB" \
    --query '[Status, PercentDone, ExpectedCompletionTimeMinutes, CreatedResourceArn]' --output text)
  case $STATUS in
    COMPLETED) echo "restore job $JOB COMPLETED: $CREATED is ACTIVE with the order history"; exit 0 ;;
    FAILED) echo "restore job $JOB FAILED: $(aws backup describe-restore-job --region "$REGION" \
              --restore-job-id "$JOB" --query StatusMessage --output text)" >&2; exit 1 ;;
  esac
  [[ $i == 3 ]] || sleep 1
done
echo "restore job $JOB is $STATUS ($DONE% done, about $MINUTES minutes in all); move sim time on (lab clock advance 5m) and run this again" >&2
exit 75
