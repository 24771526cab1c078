#!/usr/bin/env bash
# Lab 05 reference solution (aws CLI): scheduled snapshots of the backend volume, copied to us-west-2.
#
# Run it with `lab solve 05-ebs-snapshots --tool cli [--step N]`, or yourself after `eval "$(lab env)"`:
#     bash solve.sh [--step N]
set -euo pipefail
: "${AWS_ENDPOINT_URL:?run  eval \"\$(lab env)\"  first}"
aws() { command aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }

ACCOUNT=000000000000
ROLE=AWSDataLifecycleManagerDefaultRole
VOLUME_NAME=securecart-backend-data
FIRST="SecureCart backend data, first snapshot"
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

snapshot_state() {  # snapshot [region] -> "ready" once completed, else its state and progress
  local state progress
  read -r state progress < <(aws ec2 describe-snapshots --region "${2:-us-east-1}" --snapshot-ids "$1" \
                               --query 'Snapshots[0].[State, Progress]' --output text)
  if [[ $state == completed ]]; then echo ready; else echo "$state ($progress)"; fi
}

policy_details() {  # $1 = yes to copy every snapshot to us-west-2
  local copy=""
  if [[ $1 == yes ]]; then
    copy=', "CrossRegionCopyRules": [{"Target": "us-west-2", "Encrypted": true, "CopyTags": true,
                                     "RetainRule": {"Interval": 7, "IntervalUnit": "DAYS"}}]'
  fi
  cat <<JSON
{"PolicyType": "EBS_SNAPSHOT_MANAGEMENT", "ResourceTypes": ["VOLUME"],
 "TargetTags": [{"Key": "Name", "Value": "$VOLUME_NAME"}],
 "Schedules": [{"Name": "every-12-hours",
                "CreateRule": {"Interval": 12, "IntervalUnit": "HOURS", "Times": ["03:00"]},
                "RetainRule": {"Count": 14}, "CopyTags": true,
                "TagsToAdd": [{"Key": "created-by", "Value": "dlm"}]$copy}]}
JSON
}

policy_id() {
  aws dlm get-lifecycle-policies --region us-east-1 --target-tags "Name=$VOLUME_NAME" \
    --query 'Policies[0].PolicyId' --output text
}

dlm_role() {  # the IAM role Data Lifecycle Manager assumes (created once)
  if aws iam get-role --role-name "$ROLE" >/dev/null 2>&1; then
    echo "role $ROLE already exists"
  else
    aws iam create-role --role-name "$ROLE" --description "Lets Data Lifecycle Manager manage EBS snapshots" \
      --assume-role-policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"dlm.amazonaws.com"},"Action":"sts:AssumeRole"}]}' >/dev/null
    echo "created role $ROLE"
  fi
  aws iam attach-role-policy --role-name "$ROLE" \
    --policy-arn arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole
}

step_1() {  # DLM's role and a lifecycle policy: the backend data volume every 12 hours, the last 14 kept
  local id
  dlm_role
  id=$(policy_id)
  if [[ -n $id && $id != None ]]; then echo "a lifecycle policy for the backend volume already exists"; return; fi
  aws dlm create-lifecycle-policy --region us-east-1 --execution-role-arn "arn:aws:iam::$ACCOUNT:role/$ROLE" \
    --description "SecureCart backend data volume every 12 hours" --state ENABLED \
    --policy-details "$(policy_details no)" --tags app=securecart --query PolicyId --output text
}

step_2() {  # Copy every scheduled snapshot to us-west-2, and copy a first snapshot there now
  local id volume snapshot copy
  id=$(policy_id)
  if [[ -z $id || $id == None ]]; then echo "no lifecycle policy targets the backend volume yet: run step 1 first" >&2; exit 1; fi
  aws dlm update-lifecycle-policy --region us-east-1 --policy-id "$id" --state ENABLED \
    --policy-details "$(policy_details yes)"
  echo "lifecycle policy $id: snapshots are copied to us-west-2 and kept there 7 days"
  # A first snapshot now (reused when this step runs again), copied to us-west-2 once it is completed.
  volume=$(aws ec2 describe-volumes --region us-east-1 --filters "Name=tag:Name,Values=$VOLUME_NAME" \
             --query 'Volumes[0].VolumeId' --output text)
  snapshot=$(aws ec2 describe-snapshots --region us-east-1 --owner-ids self \
               --filters "[{\"Name\": \"volume-id\", \"Values\": [\"$volume\"]},
                          {\"Name\": \"description\", \"Values\": [\"$FIRST\"]}]" \
               --query 'Snapshots[0].SnapshotId' --output text)
  if [[ -z $snapshot || $snapshot == None ]]; then
    snapshot=$(aws ec2 create-snapshot --region us-east-1 --volume-id "$volume" --description "$FIRST" \
                 --tag-specifications "ResourceType=snapshot,Tags=[{Key=Name,Value=$VOLUME_NAME},{Key=app,Value=securecart}]" \
                 --query SnapshotId --output text)
  fi
  wait_until "snapshot $snapshot" snapshot_state "$snapshot"
  copy=$(aws ec2 describe-snapshots --region us-west-2 --owner-ids self \
           --filters "Name=description,Values=Copy of $snapshot ($VOLUME_NAME)" --query 'Snapshots[0].SnapshotId' --output text)
  if [[ -n $copy && $copy != None ]]; then
    echo "snapshot $snapshot was already copied to us-west-2 as $copy"
  else
    copy=$(aws ec2 copy-snapshot --region us-west-2 --source-region us-east-1 --source-snapshot-id "$snapshot" \
             --encrypted --description "Copy of $snapshot ($VOLUME_NAME)" \
             --tag-specifications "ResourceType=snapshot,Tags=[{Key=Name,Value=$VOLUME_NAME},{Key=app,Value=securecart}]" \
             --query SnapshotId --output text)
    echo "snapshot $snapshot is being copied to us-west-2 as $copy (a first copy to another Region is full)"
  fi
  wait_until "copy $copy in us-west-2" snapshot_state "$copy" us-west-2
  echo "copy $copy is completed in us-west-2"
}

STEPS=(1 2)
run_step() { echo "== step $1"; "step_$1"; }
if [[ ${1:-} == --step ]]; then
  [[ " ${STEPS[*]} " == *" ${2:-} "* ]] || { echo "no step ${2:-}; steps: ${STEPS[*]}" >&2; exit 2; }
  run_step "$2"
else
  for n in "${STEPS[@]}"; do run_step "$n"; done
fi
