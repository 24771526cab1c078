#!/usr/bin/env bash
# Lab 09 documented recovery (aws CLI): restore in us-west-2 from the newest copies, then point the shop's name at the backend.
#
# Run it with `lab solve 09-dr-backup-restore --recover --tool cli`, or yourself after `eval "$(lab env)"`:
#     bash recover.sh
set -euo pipefail
: "${AWS_ENDPOINT_URL:?run  eval \"\$(lab env)\"  first}"
# aws CLI v1 ignores AWS_ENDPOINT_URL for some services: pass the sandbox's endpoint on every call.
aws() { command aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }

ACCOUNT=000000000000
BACKEND=securecart-backend
ZONE=securecart.example.com
RECORD=shop.$ZONE
NOT_READY=75  # EX_TEMPFAIL: `lab solve` moves sim time on and runs the step again

wait_until() {  # what command... : poll a few times until the command prints "ready"; the sim clock decides
  # (LAB_WAIT_TRIES=1 where the clock is paused and only `lab clock advance` moves it)
  local what=$1 tries=${LAB_WAIT_TRIES:-3} state i
  shift
  for ((i = 1; i <= tries; i++)); do
    state=$("$@")
    [[ $state == ready ]] && return 0
    [[ $i == "$tries" ]] || sleep 1
  done
  echo "$what is $state, not ready yet; move sim time on (lab clock advance 5m) and run this step again" >&2
  exit "$NOT_READY"
}

backend_field() {  # region query -> the running backend's field (InstanceId, PublicIpAddress)
  aws ec2 describe-instances --region "$1" --filters "Name=tag:Name,Values=$BACKEND" \
    Name=instance-state-name,Values=running --query "Reservations[0].Instances[0].$2" --output text
}

zone_id() {
  local id
  id=$(aws route53 list-hosted-zones-by-name --dns-name "$ZONE" --query "HostedZones[?Name=='$ZONE.'].Id | [0]" \
         --output text)
  if [[ -z $id || $id == None ]]; then
    id=$(aws route53 create-hosted-zone --name "$ZONE" --caller-reference "$ZONE-shop" --query HostedZone.Id \
           --output text)
  fi
  echo "$id"
}

health_check() {  # ip -> the id of a TCP health check on it (made once)
  local id
  id=$(aws route53 list-health-checks --query "HealthChecks[?HealthCheckConfig.IPAddress=='$1'].Id | [0]" --output text)
  if [[ -z $id || $id == None ]]; then
    id=$(aws route53 create-health-check --caller-reference "shop-$1" --query HealthCheck.Id --output text \
           --health-check-config "Type=TCP,IPAddress=$1,Port=443,RequestInterval=10,FailureThreshold=3")
  fi
  echo "$id"
}

failover_record() {  # role ip [health check id] -> UPSERT the PRIMARY or SECONDARY record of the shop
  local role=$1 ip=$2 check=${3:-} extra=""
  [[ -n $check ]] && extra="\"HealthCheckId\": \"$check\","
  aws route53 change-resource-record-sets --hosted-zone-id "$(zone_id)" --change-batch "{\"Changes\": [
    {\"Action\": \"UPSERT\", \"ResourceRecordSet\": {\"Name\": \"$RECORD\", \"Type\": \"A\",
      \"SetIdentifier\": \"${role,,}\", \"Failover\": \"$role\", \"TTL\": 60, $extra
      \"ResourceRecords\": [{\"Value\": \"$ip\"}]}}]}" >/dev/null
  echo "$RECORD: $role -> $ip"
}

DR_VAULT=securecart-vault-dr
ROLE_ARN=arn:aws:iam::$ACCOUNT:role/AWSBackupDefaultServiceRole
BEFORE=${LAB_INCIDENT_TIME:-9999-12-31T23:59:59Z}

restore() {  # type arn-fragment metadata... -> the restore job's id (started now unless there is one)
  local kind=$1 fragment=$2 point job
  shift 2
  # the newest completed copy taken before the incident (dates compared as ISO 8601 text)
  point=$(aws backup list-recovery-points-by-backup-vault --region us-west-2 --backup-vault-name "$DR_VAULT" \
            --query "sort_by(RecoveryPoints[?ResourceType=='$kind' && Status=='COMPLETED' && contains(ResourceArn, '$fragment')], &CreationDate)[].[CreationDate, RecoveryPointArn]" \
            --output text | awk -v before="$BEFORE" 'substr($1, 1, 19) < substr(before, 1, 19) { arn = $2 } END { print arn }')
  if [[ -z $point || $point == None ]]; then
    echo "no copy of the $kind resource in $DR_VAULT before $BEFORE" >&2; exit 1
  fi
  job=$(aws backup list-restore-jobs --region us-west-2 \
          --query "RestoreJobs[?RecoveryPointArn=='$point' && Status!='FAILED'].RestoreJobId | [0]" --output text)
  if [[ -z $job || $job == None ]]; then
    job=$(aws backup start-restore-job --region us-west-2 --recovery-point-arn "$point" --resource-type "$kind" \
            --iam-role-arn "$ROLE_ARN" --metadata "$@" --query RestoreJobId --output text)
    echo "$kind: restoring $point" >&2
  fi
  echo "$job"
}

job_field() { aws backup describe-restore-job --region us-west-2 --restore-job-id "$1" --query "$2" --output text; }

RDS_JOB=$(restore RDS ":db:securecart-orders-db" DBInstanceIdentifier=securecart-orders-db,DBInstanceClass=db.t3.micro,Engine=postgres)
TABLE_JOB=$(restore DynamoDB ":table/securecart-order-history" TargetTableName=securecart-order-history)
EC2_JOB=$(restore EC2 ":instance/" InstanceType=t3.micro)
pending=0
for job in "$RDS_JOB" "$TABLE_JOB" "$EC2_JOB"; do
  status=$(job_field "$job" Status)
  echo "restore job $job: $status"
  [[ $status == FAILED || $status == ABORTED ]] && { echo "restore job $job failed" >&2; exit 1; }
  [[ $status == COMPLETED ]] || pending=1
done
if [[ $(job_field "$EC2_JOB" Status) == COMPLETED ]]; then
  instance=$(job_field "$EC2_JOB" CreatedResourceArn)
  instance=${instance##*/}
  aws ec2 create-tags --region us-west-2 --resources "$instance" --tags Key=Name,Value=$BACKEND Key=app,Value=securecart
  ip=$(aws ec2 describe-instances --region us-west-2 --instance-ids "$instance" \
         --query 'Reservations[0].Instances[0].PublicIpAddress' --output text)
  failover_record SECONDARY "$ip"
fi
if [[ $pending == 1 ]]; then
  echo "restores are still running; move sim time on (lab clock advance 5m) and run this again" >&2
  exit "$NOT_READY"
fi
echo "the orders database, the order history and the backend are restored in us-west-2"
