#!/usr/bin/env bash
# Lab 04 documented recovery (aws CLI): restore the order history in us-west-2 as it was at T, the deletion.
#
# Run it with `lab solve 04-dynamodb-pitr-global --recover --tool cli`, or yourself after `eval "$(lab env)"`:
#     bash recover.sh --before 2026-11-26T10:00:00Z
set -euo pipefail
: "${AWS_ENDPOINT_URL:?run  eval \"\$(lab env)\"  first}"
aws() { command aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }

TABLE=securecart-order-history
RESTORED=securecart-order-history-restored
BEFORE=${LAB_INCIDENT_TIME:-}
if [[ ${1:-} == --before ]]; then BEFORE=$2; fi
[[ -n $BEFORE ]] || { echo "give the time of the deletion: --before 2026-11-26T10:00:00Z (see lab drills)" >&2; exit 2; }
RESTORE_TIME=$BEFORE  # T, to the second: the table as it was then, before the deletes

# The restored table is usable once ACTIVE (a restore takes minutes: until then it is CREATING and refuses reads
# and writes). Run again, this waits for the restore it started.
wait_for_restore() {
  local status i
  for i in 1 2 3; do
    status=$(aws dynamodb describe-table --region us-west-2 --table-name "$RESTORED" --query Table.TableStatus --output text)
    if [[ $status == ACTIVE ]]; then echo "$RESTORED (us-west-2) is ACTIVE: serve reads from it"; exit 0; fi
    [[ $i == 3 ]] || sleep 1
  done
  echo "$RESTORED is $status (restore in progress); move sim time on (lab clock advance 5m) and run this again" >&2
  exit 75
}
if aws dynamodb describe-table --region us-west-2 --table-name "$RESTORED" >/dev/null 2>&1; then wait_for_restore; fi

LATEST=$(aws dynamodb describe-continuous-backups --region us-west-2 --table-name "$TABLE" \
           --query 'ContinuousBackupsDescription.PointInTimeRecoveryDescription.LatestRestorableDateTime' --output text)
# The latest restorable time trails now by a few minutes: wait until T is restorable.
if ! python3 -c '
import sys
from datetime import datetime
def when(text):
    try:
        return float(text)
    except ValueError:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
sys.exit(0 if sys.argv[1] in ("", "None") or when(sys.argv[1]) >= when(sys.argv[2]) else 1)' "$LATEST" "$RESTORE_TIME"; then
  echo "$RESTORE_TIME is not restorable yet; wait a few minutes (lab clock advance 5m) and run this again" >&2
  exit 75
fi
aws dynamodb restore-table-to-point-in-time --region us-west-2 --source-table-name "$TABLE" \
  --target-table-name "$RESTORED" --restore-date-time "$RESTORE_TIME" \
  --query 'TableDescription.TableStatus' --output text
echo "restoring $TABLE as of $RESTORE_TIME into $RESTORED (us-west-2)"
wait_for_restore
