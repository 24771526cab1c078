#!/usr/bin/env bash
# Lab 11 reference solution (aws CLI): a warm standby -- data live, a scaled-down backend running, DNS failover.
#
# Run it with `lab solve 11-dr-warm-standby --tool cli [--step N]`, or yourself after `eval "$(lab env)"`:
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

backend_field() {  # region query [states] -> the backend's field (InstanceId, PublicIpAddress), running by default
  aws ec2 describe-instances --region "$1" --filters "Name=tag:Name,Values=$BACKEND" \
    "Name=instance-state-name,Values=${3:-running}" --query "Reservations[0].Instances[0].$2" --output text
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

replicate_invoices() {  # versioning on both buckets, a rule with RTC, the older invoices copied once
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
                \"Destination\": {\"Bucket\": \"arn:aws:s3:::securecart-invoices-usw2\",
                  \"ReplicationTime\": {\"Status\": \"Enabled\", \"Time\": {\"Minutes\": 15}},
                  \"Metrics\": {\"Status\": \"Enabled\", \"EventThreshold\": {\"Minutes\": 15}}}}]}"
  aws s3 sync s3://securecart-invoices-use1 s3://securecart-invoices-usw2 --source-region us-east-1 \
    --region us-west-2 --only-show-errors
  echo "invoices replicate to securecart-invoices-usw2"
}

table_replica() {  # the order history's replica status in us-west-2 (asked for once the stream is on)
  local stream status replica
  stream=$(aws dynamodb describe-table --region us-east-1 --table-name securecart-order-history \
             --query 'Table.StreamSpecification.StreamEnabled' --output text)
  if [[ $stream != True ]]; then
    aws dynamodb update-table --region us-east-1 --table-name securecart-order-history \
      --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES >/dev/null
    echo "stream being enabled"; return
  fi
  status=$(aws dynamodb describe-table --region us-east-1 --table-name securecart-order-history \
             --query 'Table.TableStatus' --output text)
  replica=$(aws dynamodb describe-table --region us-east-1 --table-name securecart-order-history \
              --query "Table.Replicas[?RegionName=='us-west-2'].ReplicaStatus | [0]" --output text)
  if [[ $replica == None || -z $replica ]]; then
    if [[ $status == ACTIVE ]]; then
      aws dynamodb update-table --region us-east-1 --table-name securecart-order-history \
        --replica-updates '[{"Create": {"RegionName": "us-west-2"}}]' >/dev/null
      echo "replica asked for"; return
    fi
    echo "table $status"; return
  fi
  if [[ $replica == ACTIVE ]]; then echo ready; else echo "replica $replica"; fi
}

dr_key() {  # a KMS key in us-west-2 for the encrypted replica
  local arn key_id
  if arn=$(aws kms describe-key --region us-west-2 --key-id alias/securecart-dr --query KeyMetadata.Arn \
             --output text 2>/dev/null); then
    echo "$arn"; return
  fi
  key_id=$(aws kms create-key --region us-west-2 --description "SecureCart copies in us-west-2" \
             --query KeyMetadata.KeyId --output text)
  aws kms create-alias --region us-west-2 --alias-name alias/securecart-dr --target-key-id "$key_id"
  aws kms describe-key --region us-west-2 --key-id "$key_id" --query KeyMetadata.Arn --output text
}

replica_state() {
  local status
  status=$(aws rds describe-db-instances --region us-west-2 --db-instance-identifier securecart-orders-db-usw2 \
             --query 'DBInstances[0].DBInstanceStatus' --output text 2>/dev/null || echo missing)
  if [[ $status == available ]]; then echo ready; else echo "replica $status"; fi
}

replicate_database() {
  local retention pending status
  if ! aws rds describe-db-instances --region us-west-2 --db-instance-identifier securecart-orders-db-usw2 \
       >/dev/null 2>&1; then
    # A read replica needs automated backups on its source, and a source that is available (switching backups
    # on takes a few minutes: until then the step is not ready and runs again later)
    read -r retention pending status < <(aws rds describe-db-instances --region us-east-1 \
      --db-instance-identifier securecart-orders-db --output text \
      --query 'DBInstances[0].[BackupRetentionPeriod, PendingModifiedValues.BackupRetentionPeriod, DBInstanceStatus]')
    if [[ $retention == 0 && $pending == None ]]; then
      aws rds modify-db-instance --region us-east-1 --db-instance-identifier securecart-orders-db \
        --backup-retention-period 7 --apply-immediately >/dev/null
      echo "securecart-orders-db: automated backups switched on"; return
    fi
    [[ $status == available ]] || { echo "securecart-orders-db is $status: the replica once it is available"; return; }
    aws rds create-db-instance-read-replica --region us-west-2 --source-region us-east-1 \
      --db-instance-identifier securecart-orders-db-usw2 --db-instance-class db.t3.micro --kms-key-id "$(dr_key)" \
      --source-db-instance-identifier "arn:aws:rds:us-east-1:$ACCOUNT:db:securecart-orders-db" >/dev/null
    echo "creating read replica securecart-orders-db-usw2 in us-west-2"
  fi
}

data_state() {
  local replica table
  replica=$(replica_state)
  table=$(table_replica)
  if [[ $replica == ready && $table == ready ]]; then echo ready; else echo "$replica, table: $table"; fi
}

second_backend() {  # type role -> launch the backend's instance in us-west-2 unless there is one; wait until it runs
  local id image
  id=$(backend_field us-west-2 InstanceId pending,running)
  if [[ -z $id || $id == None ]]; then
    image=$(aws ec2 describe-images --region us-west-2 --owners amazon \
              --filters 'Name=name,Values=al2023-ami-2023.*-x86_64' --query 'sort_by(Images, &Name)[-1].ImageId' --output text)
    aws ec2 run-instances --region us-west-2 --image-id "$image" --instance-type "$1" --count 1 \
      --tag-specifications "ResourceType=instance,Tags=[{Key=Name,Value=$BACKEND},{Key=app,Value=securecart},{Key=dr-role,Value=$2}]" \
      >/dev/null
    echo "launched the backend ($1) in us-west-2"
  fi
  wait_until "the backend in us-west-2" dr_backend_state  # (`pending` for a while after the launch, as on AWS)
  echo "the backend $(backend_field us-west-2 InstanceId) runs in us-west-2"
}

dr_backend_state() {
  local state
  state=$(backend_field us-west-2 State.Name pending,running)
  if [[ $state == running ]]; then echo ready; else echo "${state/None/gone}"; fi
}

step_1() {  # The data live in us-west-2: a read replica, a global-table replica, replicated invoices
  replicate_invoices
  replicate_database
  wait_until "the data in us-west-2" data_state
  echo "the replica is available and the order history has an ACTIVE replica in us-west-2"
}

step_2() {  # A scaled-down backend (t3.nano) running in us-west-2
  second_backend t3.nano warm-standby
}

step_3() {  # shop.securecart.example.com fails over from the primary (health-checked) to the standby by itself
  local primary standby
  primary=$(backend_field us-east-1 PublicIpAddress)
  standby=$(backend_field us-west-2 PublicIpAddress)
  failover_record PRIMARY "$primary" "$(health_check "$primary")"
  failover_record SECONDARY "$standby"
}

STEPS=(1 2 3)
run_step() { echo "== step $1"; "step_$1"; }
if [[ ${1:-} == --step ]]; then
  [[ " ${STEPS[*]} " == *" ${2:-} "* ]] || { echo "no step ${2:-}; steps: ${STEPS[*]}" >&2; exit 2; }
  run_step "$2"
else
  for n in "${STEPS[@]}"; do run_step "$n"; done
fi
