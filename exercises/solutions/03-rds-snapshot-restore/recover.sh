#!/usr/bin/env bash
# Lab 03 documented recovery (aws CLI): restore the orders database as it was at T, the bad deploy, as a new instance.
# A point-in-time restore to T keeps every order committed before T and none of the damage done within that second.
# The new instance is `creating` (inaccessible) for the restore's time: this stops with exit 75 until it is
# available, and `lab solve --recover` moves sim time on and runs it again.
#
# Run it with `lab solve 03-rds-snapshot-restore --recover --tool cli`, or yourself after `eval "$(lab env)"`:
#     bash recover.sh --before 2026-11-26T10:00:00Z
set -euo pipefail
: "${AWS_ENDPOINT_URL:?run  eval \"\$(lab env)\"  first}"
aws() { command aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }

DB=securecart-orders-db
RESTORED=securecart-orders-db-restored
BEFORE=${LAB_INCIDENT_TIME:-}
if [[ ${1:-} == --before ]]; then BEFORE=$2; fi
[[ -n $BEFORE ]] || { echo "give the time of the bad deploy: --before 2026-11-26T10:00:00Z (see lab drills)" >&2; exit 2; }
RESTORE_TIME=$BEFORE

STATUS=$(aws rds describe-db-instances --region us-east-1 --db-instance-identifier "$RESTORED" \
           --query 'DBInstances[0].DBInstanceStatus' --output text 2>/dev/null || echo missing)
if [[ $STATUS == missing ]]; then
  LATEST=$(aws rds describe-db-instances --region us-east-1 --db-instance-identifier "$DB" \
             --query 'DBInstances[0].LatestRestorableTime' --output text)
  echo "$DB can be restored to any second until $LATEST"
  # The latest restorable time trails now by about five minutes: wait until T is restorable.
  if ! python3 -c '
import sys
from datetime import datetime
def when(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
sys.exit(0 if sys.argv[1] not in ("", "None") and when(sys.argv[1]) >= when(sys.argv[2]) else 1)' "$LATEST" "$RESTORE_TIME"; then
    echo "$RESTORE_TIME is not restorable yet; wait a few minutes (lab clock advance 5m) and run this again" >&2
    exit 75
  fi
  STATUS=$(aws rds restore-db-instance-to-point-in-time --region us-east-1 --source-db-instance-identifier "$DB" \
             --target-db-instance-identifier "$RESTORED" --restore-time "$RESTORE_TIME" --db-instance-class db.t3.micro \
             --tags Key=app,Value=securecart --query 'DBInstance.DBInstanceStatus' --output text)
  echo "restoring $DB as of $RESTORE_TIME into $RESTORED: $STATUS"
fi
# A restored instance is inaccessible while it is being created: the restore's time is part of the RTO.
if [[ $STATUS != available && $STATUS != backing-up ]]; then
  echo "$RESTORED is $STATUS; move sim time on (lab clock advance 5m) and run this again, or wait with" \
       "aws rds wait db-instance-available while the clock runs (lab clock speed 60)" >&2
  exit 75
fi
echo "$RESTORED is $STATUS: it holds the orders as they were at $RESTORE_TIME"
