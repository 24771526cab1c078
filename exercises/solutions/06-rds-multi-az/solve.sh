#!/usr/bin/env bash
# Lab 06 reference solution (aws CLI): a Multi-AZ orders database, with automated backups beside it.
#
# Run it with `lab solve 06-rds-multi-az --tool cli [--step N]`, or yourself after `eval "$(lab env)"`:
#     bash solve.sh [--step N]
set -euo pipefail
: "${AWS_ENDPOINT_URL:?run  eval \"\$(lab env)\"  first}"
# aws CLI v1 sends RDS calls in us-east-1 to AWS unless --endpoint-url is given: always pass it.
aws() { command aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }

DB=securecart-orders-db

NOT_READY=75  # EX_TEMPFAIL: `lab solve` moves sim time on and runs the step again

field() {  # JMESPath of the orders database -> its value
  aws rds describe-db-instances --region us-east-1 --db-instance-identifier "$DB" --query "DBInstances[0].$1" \
    --output text
}

wait_until_available() {  # RDS applies a modification in its own time: done once the instance is available again
  local status i
  for i in 1 2 3; do
    status=$(field DBInstanceStatus)
    [[ $status == available ]] && return 0
    [[ $i == 3 ]] || sleep 1
  done
  echo "$DB is $status ($1); move sim time on (lab clock advance 5m) and run this step again" >&2
  exit "$NOT_READY"
}

step_1() {  # Multi-AZ: a synchronous standby in a second Availability Zone
  if [[ $(field MultiAZ) != True && $(field PendingModifiedValues.MultiAZ) != True ]]; then
    # Without --apply-immediately the change waits in PendingModifiedValues for the maintenance window.
    aws rds modify-db-instance --region us-east-1 --db-instance-identifier "$DB" --multi-az --apply-immediately \
      --query 'DBInstance.{status: DBInstanceStatus, pending: PendingModifiedValues}' --output text
  fi
  wait_until_available "the standby is being built"
  echo "$DB: Multi-AZ, primary in $(field AvailabilityZone), standby in $(field SecondaryAvailabilityZone)"
}

step_2() {  # Automated backups kept 7 days: Multi-AZ protects from an AZ failure, not from a bad DELETE
  wait_until_available "RDS refuses another modification until then"
  if (( $(field BackupRetentionPeriod) < 7 )); then
    aws rds modify-db-instance --region us-east-1 --db-instance-identifier "$DB" --backup-retention-period 7 \
      --apply-immediately >/dev/null
    echo "$DB: turning automated backups on (modifying, then backing-up: the first backup)"
  fi
  wait_until_available "the first automated backup is being taken"
  echo "$DB: automated backups kept $(field BackupRetentionPeriod) days"
}

STEPS=(1 2)
run_step() { echo "== step $1"; "step_$1"; }
if [[ ${1:-} == --step ]]; then
  [[ " ${STEPS[*]} " == *" ${2:-} "* ]] || { echo "no step ${2:-}; steps: ${STEPS[*]}" >&2; exit 2; }
  run_step "$2"
else
  for n in "${STEPS[@]}"; do run_step "$n"; done
fi
