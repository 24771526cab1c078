#!/usr/bin/env bash
# Lab 04 reference solution (aws CLI): point-in-time recovery and a us-west-2 replica for the order history.
#
# Run it with `lab solve 04-dynamodb-pitr-global --tool cli [--step N]`, or yourself after `eval "$(lab env)"`:
#     bash solve.sh [--step N]
set -euo pipefail
: "${AWS_ENDPOINT_URL:?run  eval \"\$(lab env)\"  first}"
aws() { command aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }

TABLE=securecart-order-history

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

table_query() {  # query expected -> "ready" when the table's description answers it, else what it answers
  local found
  found=$(aws dynamodb describe-table --region us-east-1 --table-name "$TABLE" --query "$1" --output text)
  if [[ $found == "$2" ]]; then echo ready; else echo "$found"; fi
}

step_1() {  # Point-in-time recovery on the order history table
  aws dynamodb update-continuous-backups --region us-east-1 --table-name "$TABLE" \
    --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true \
    --query 'ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus' --output text
}

step_2() {  # A replica in us-west-2 (global tables 2019.11.21 need a stream with new and old images)
  if [[ $(aws dynamodb describe-table --region us-east-1 --table-name "$TABLE" \
            --query 'Table.StreamSpecification.StreamEnabled' --output text) != True ]]; then
    aws dynamodb update-table --region us-east-1 --table-name "$TABLE" \
      --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES >/dev/null
    echo "$TABLE: stream enabled (NEW_AND_OLD_IMAGES)"
    wait_until "table $TABLE" table_query Table.TableStatus ACTIVE
  fi
  if [[ $(aws dynamodb describe-table --region us-east-1 --table-name "$TABLE" \
            --query "length(Table.Replicas[?RegionName=='us-west-2'] || \`[]\`)" --output text) == 0 ]]; then
    aws dynamodb update-table --region us-east-1 --table-name "$TABLE" \
      --replica-updates '[{"Create": {"RegionName": "us-west-2"}}]' >/dev/null
    echo "$TABLE: creating a replica in us-west-2"
  fi
  wait_until "the replica in us-west-2" table_query "Table.Replicas[?RegionName=='us-west-2'].ReplicaStatus | [0]" ACTIVE
  echo "replica in us-west-2 is ACTIVE"
}

step_3() {  # Point-in-time recovery on the replica too (PITR is set per replica)
  aws dynamodb update-continuous-backups --region us-west-2 --table-name "$TABLE" \
    --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true \
    --query 'ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus' --output text
}

STEPS=(1 2 3)
run_step() { echo "== step $1"; "step_$1"; }
if [[ ${1:-} == --step ]]; then
  [[ " ${STEPS[*]} " == *" ${2:-} "* ]] || { echo "no step ${2:-}; steps: ${STEPS[*]}" >&2; exit 2; }
  run_step "$2"
else
  for n in "${STEPS[@]}"; do run_step "$n"; done
fi
