#!/usr/bin/env bash
# Lab 09 reference solution (aws CLI): backup and restore -- daily backups copied to us-west-2, invoices replicated.
#
# Run it with `lab solve 09-dr-backup-restore --tool cli [--step N]`, or yourself after `eval "$(lab env)"`:
#     bash solve.sh [--step N]
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

replicate_invoices() {  # versioning on both buckets, a replication rule, the older invoices copied once
  aws s3api put-bucket-versioning --region us-east-1 --bucket securecart-invoices-use1 \
    --versioning-configuration Status=Enabled
  aws s3api put-bucket-versioning --region us-west-2 --bucket securecart-invoices-usw2 \
    --versioning-configuration Status=Enabled
  aws iam get-role --role-name securecart-s3-replication >/dev/null 2>&1 ||
    aws iam create-role --role-name securecart-s3-replication >/dev/null --assume-role-policy-document \
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
  aws s3api put-bucket-replication --region us-east-1 --bucket securecart-invoices-use1 --replication-configuration "{
    \"Role\": \"arn:aws:iam::$ACCOUNT:role/securecart-s3-replication\",
    \"Rules\": [{\"ID\": \"invoices-to-usw2\", \"Status\": \"Enabled\", \"Priority\": 1, \"Filter\": {\"Prefix\": \"\"},
                \"DeleteMarkerReplication\": {\"Status\": \"Enabled\"},
                \"Destination\": {\"Bucket\": \"arn:aws:s3:::securecart-invoices-usw2\"}}]}"
  aws s3 sync s3://securecart-invoices-use1 s3://securecart-invoices-usw2 --source-region us-east-1 \
    --region us-west-2 --only-show-errors
  echo "invoices replicate to securecart-invoices-usw2"
}

VAULT=securecart-vault
DR_VAULT=securecart-vault-dr
DR_VAULT_ARN=arn:aws:backup:us-west-2:$ACCOUNT:backup-vault:$DR_VAULT
ROLE_ARN=arn:aws:iam::$ACCOUNT:role/AWSBackupDefaultServiceRole

resource_arns() {  # the three resources the plan protects
  echo "arn:aws:rds:us-east-1:$ACCOUNT:db:securecart-orders-db"
  echo "arn:aws:dynamodb:us-east-1:$ACCOUNT:table/securecart-order-history"
  echo "arn:aws:ec2:us-east-1:$ACCOUNT:instance/$(backend_field us-east-1 InstanceId)"
}

step_1() {  # Vaults in both regions; a daily plan copied to us-west-2; the three resources selected
  aws backup create-backup-vault --region us-east-1 --backup-vault-name "$VAULT" >/dev/null 2>&1 || true
  aws backup create-backup-vault --region us-west-2 --backup-vault-name "$DR_VAULT" >/dev/null 2>&1 || true
  aws iam get-role --role-name AWSBackupDefaultServiceRole >/dev/null 2>&1 ||
    aws iam create-role --role-name AWSBackupDefaultServiceRole >/dev/null --assume-role-policy-document \
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"backup.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
  local plan_id resources
  plan_id=$(aws backup list-backup-plans --region us-east-1 \
              --query "BackupPlansList[?BackupPlanName=='securecart-dr-daily'].BackupPlanId | [0]" --output text)
  if [[ -z $plan_id || $plan_id == None ]]; then
    plan_id=$(aws backup create-backup-plan --region us-east-1 --query BackupPlanId --output text --backup-plan "{
      \"BackupPlanName\": \"securecart-dr-daily\",
      \"Rules\": [{\"RuleName\": \"daily\", \"TargetBackupVaultName\": \"$VAULT\",
        \"ScheduleExpression\": \"cron(0 5 * * ? *)\", \"StartWindowMinutes\": 60, \"CompletionWindowMinutes\": 180,
        \"Lifecycle\": {\"DeleteAfterDays\": 7},
        \"CopyActions\": [{\"DestinationBackupVaultArn\": \"$DR_VAULT_ARN\", \"Lifecycle\": {\"DeleteAfterDays\": 7}}]}]}")
    echo "created plan securecart-dr-daily ($plan_id)"
  fi
  if [[ $(aws backup list-backup-selections --region us-east-1 --backup-plan-id "$plan_id" \
          --query 'length(BackupSelectionsList)') == 0 ]]; then
    resources=$(resource_arns | sed 's/.*/"&"/' | paste -sd, -)
    aws backup create-backup-selection --region us-east-1 --backup-plan-id "$plan_id" --backup-selection "{
      \"SelectionName\": \"securecart-state\", \"IamRoleArn\": \"$ROLE_ARN\", \"Resources\": [$resources]}" >/dev/null
    echo "selected the orders database, the order history and the backend"
  fi
}

copies_state() {  # start what is missing: a backup of each, then its copy; "ready" once every copy is there
  local arn job state point missing=""
  for arn in $(resource_arns); do
    if [[ $(aws backup list-recovery-points-by-backup-vault --region us-west-2 --backup-vault-name "$DR_VAULT" \
            --by-resource-arn "$arn" --query "length(RecoveryPoints[?Status=='COMPLETED'])") != 0 ]]; then
      continue
    fi
    missing="$missing ${arn##*:}"
    job=$(aws backup list-backup-jobs --region us-east-1 --by-resource-arn "$arn" --query 'BackupJobs[0].BackupJobId' \
            --output text)
    if [[ -z $job || $job == None ]]; then
      aws backup start-backup-job --region us-east-1 --backup-vault-name "$VAULT" --resource-arn "$arn" \
        --iam-role-arn "$ROLE_ARN" --lifecycle DeleteAfterDays=7 >/dev/null
      continue
    fi
    state=$(aws backup describe-backup-job --region us-east-1 --backup-job-id "$job" --query State --output text)
    [[ $state == COMPLETED ]] || continue
    if [[ $(aws backup list-copy-jobs --region us-east-1 --by-resource-arn "$arn" --query 'length(CopyJobs)') == 0 ]]; then
      point=$(aws backup describe-backup-job --region us-east-1 --backup-job-id "$job" --query RecoveryPointArn \
                --output text)
      aws backup start-copy-job --region us-east-1 --recovery-point-arn "$point" --source-backup-vault-name "$VAULT" \
        --destination-backup-vault-arn "$DR_VAULT_ARN" --iam-role-arn "$ROLE_ARN" --lifecycle DeleteAfterDays=7 >/dev/null
    fi
  done
  if [[ -z $missing ]]; then echo ready; else echo "waiting for the copies of$missing"; fi
}

step_2() {  # A backup of each resource now, and its copy in us-west-2 (the plan's first run is tomorrow)
  wait_until "the copies in $DR_VAULT" copies_state
  echo "every resource has a copy in $DR_VAULT"
}

step_3() {  # Invoices replicated; shop.securecart.example.com a PRIMARY record with a health check
  replicate_invoices
  local ip
  ip=$(backend_field us-east-1 PublicIpAddress)
  failover_record PRIMARY "$ip" "$(health_check "$ip")"
}

STEPS=(1 2 3)
run_step() { echo "== step $1"; "step_$1"; }
if [[ ${1:-} == --step ]]; then
  [[ " ${STEPS[*]} " == *" ${2:-} "* ]] || { echo "no step ${2:-}; steps: ${STEPS[*]}" >&2; exit 2; }
  run_step "$2"
else
  for n in "${STEPS[@]}"; do run_step "$n"; done
fi
