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

step_1() {  # Multi-AZ: a synchronous standby in a second Availability Zone
  aws rds modify-db-instance --region us-east-1 --db-instance-identifier "$DB" --multi-az --apply-immediately \
    --query 'DBInstance.{status: DBInstanceStatus, az: AvailabilityZone, multi_az: MultiAZ}' --output text
}

step_2() {  # Automated backups kept 7 days: Multi-AZ protects from an AZ failure, not from a bad DELETE
  aws rds modify-db-instance --region us-east-1 --db-instance-identifier "$DB" --backup-retention-period 7 \
    --apply-immediately >/dev/null
  echo "$DB: automated backups kept 7 days"
}

STEPS=(1 2)
run_step() { echo "== step $1"; "step_$1"; }
if [[ ${1:-} == --step ]]; then
  [[ " ${STEPS[*]} " == *" ${2:-} "* ]] || { echo "no step ${2:-}; steps: ${STEPS[*]}" >&2; exit 2; }
  run_step "$2"
else
  for n in "${STEPS[@]}"; do run_step "$n"; done
fi
