#!/usr/bin/env bash
# Lab 03 reference solution (aws CLI): RDS automated backups, a manual snapshot, and its copy in us-west-2.
#
# Run it with `lab solve 03-rds-snapshot-restore --tool cli [--step N]`, or yourself after `eval "$(lab env)"`:
#     bash solve.sh [--step N]
set -euo pipefail
: "${AWS_ENDPOINT_URL:?run  eval \"\$(lab env)\"  first}"
# aws CLI v1 sends RDS calls in us-east-1 to AWS unless --endpoint-url is given: always pass it.
aws() { command aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }

ACCOUNT=000000000000
DB=securecart-orders-db
SNAPSHOT=securecart-orders-manual
DR_SNAPSHOT=securecart-orders-manual-usw2

NOT_READY=75  # EX_TEMPFAIL: `lab solve` moves sim time on and runs the step again

wait_until() {  # what command... : poll a few times until the command prints "ready"; the sim clock decides
  local what=$1 state i
  shift
  for i in 1 2 3; do
    state=$("$@")
    [[ $state == ready ]] && return 0
    [[ $i == 3 ]] || sleep 1
  done
  echo "$what is $state, not ready yet; move sim time on (lab clock advance 5m) and run this step again" >&2
  exit "$NOT_READY"
}

snapshot_state() {  # region identifier -> "ready" or its status
  local status
  status=$(aws rds describe-db-snapshots --region "$1" --db-snapshot-identifier "$2" \
             --query 'DBSnapshots[0].Status' --output text)
  if [[ $status == available ]]; then echo ready; else echo "$status"; fi
}

instance_state() {  # -> "ready" when the orders database is available (RDS refuses a snapshot otherwise)
  local status
  status=$(aws rds describe-db-instances --region us-east-1 --db-instance-identifier "$DB" \
             --query 'DBInstances[0].DBInstanceStatus' --output text)
  if [[ $status == available ]]; then echo ready; else echo "$status"; fi
}

step_1() {  # Automated backups kept 7 days
  local retention query
  # the retention in force, or the one already asked for (PendingModifiedValues while RDS applies it)
  query='max([DBInstances[0].BackupRetentionPeriod, DBInstances[0].PendingModifiedValues.BackupRetentionPeriod || `0`])'
  retention=$(aws rds describe-db-instances --region us-east-1 --db-instance-identifier "$DB" --query "$query" \
                --output text)
  if (( retention >= 7 )); then
    echo "$DB: automated backups already kept $retention days"
    return
  fi
  # Without --apply-immediately the change would wait in PendingModifiedValues for the maintenance window.
  aws rds modify-db-instance --region us-east-1 --db-instance-identifier "$DB" --backup-retention-period 7 \
    --preferred-backup-window 03:00-03:30 --apply-immediately >/dev/null
  echo "$DB: automated backups kept 7 days, daily window 03:00-03:30 UTC (modifying, then backing-up)"
}

step_2() {  # A manual snapshot of the orders database
  if aws rds describe-db-snapshots --region us-east-1 --db-snapshot-identifier "$SNAPSHOT" >/dev/null 2>&1; then
    echo "snapshot $SNAPSHOT already exists"
  else
    wait_until "$DB" instance_state
    aws rds create-db-snapshot --region us-east-1 --db-instance-identifier "$DB" \
      --db-snapshot-identifier "$SNAPSHOT" --tags Key=app,Value=securecart >/dev/null
    echo "creating snapshot $SNAPSHOT"
  fi
  wait_until "snapshot $SNAPSHOT" snapshot_state us-east-1 "$SNAPSHOT"
  echo "snapshot $SNAPSHOT is available"
}

dr_key() {  # a KMS key in us-west-2: an encrypted snapshot copied across regions is re-encrypted with it
  local arn key_id
  if arn=$(aws kms describe-key --region us-west-2 --key-id alias/securecart-rds-dr \
             --query KeyMetadata.Arn --output text 2>/dev/null); then
    echo "$arn"; return
  fi
  key_id=$(aws kms create-key --region us-west-2 --description "SecureCart RDS copies in us-west-2" \
             --query KeyMetadata.KeyId --output text)
  aws kms create-alias --region us-west-2 --alias-name alias/securecart-rds-dr --target-key-id "$key_id"
  aws kms describe-key --region us-west-2 --key-id "$key_id" --query KeyMetadata.Arn --output text
}

step_3() {  # Copy the snapshot to us-west-2 (the copy is made from the DR region's side)
  if aws rds describe-db-snapshots --region us-west-2 --db-snapshot-identifier "$DR_SNAPSHOT" >/dev/null 2>&1; then
    echo "$DR_SNAPSHOT already exists in us-west-2"
  else
    aws rds copy-db-snapshot --region us-west-2 --source-region us-east-1 \
      --source-db-snapshot-identifier "arn:aws:rds:us-east-1:$ACCOUNT:snapshot:$SNAPSHOT" \
      --target-db-snapshot-identifier "$DR_SNAPSHOT" --kms-key-id "$(dr_key)" --copy-tags >/dev/null
    echo "copying $SNAPSHOT to us-west-2 as $DR_SNAPSHOT"
  fi
  wait_until "snapshot $DR_SNAPSHOT" snapshot_state us-west-2 "$DR_SNAPSHOT"
  echo "$DR_SNAPSHOT is available in us-west-2"
}

STEPS=(1 2 3)
run_step() { echo "== step $1"; "step_$1"; }
if [[ ${1:-} == --step ]]; then
  [[ " ${STEPS[*]} " == *" ${2:-} "* ]] || { echo "no step ${2:-}; steps: ${STEPS[*]}" >&2; exit 2; }
  run_step "$2"
else
  for n in "${STEPS[@]}"; do run_step "$n"; done
fi
