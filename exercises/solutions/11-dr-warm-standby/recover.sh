#!/usr/bin/env bash
# Lab 11 documented recovery (aws CLI): promote the orders replica; Route 53 has moved the shop's name already.
#
# Run it with `lab solve 11-dr-warm-standby --recover --tool cli`, or yourself after `eval "$(lab env)"`:
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

REPLICA=securecart-orders-db-usw2

source=$(aws rds describe-db-instances --region us-west-2 --db-instance-identifier "$REPLICA" \
           --query 'DBInstances[0].ReadReplicaSourceDBInstanceIdentifier' --output text)
if [[ -n $source && $source != None ]]; then
  aws rds promote-read-replica --region us-west-2 --db-instance-identifier "$REPLICA" --backup-retention-period 7 >/dev/null
  echo "promoting $REPLICA: it takes orders once it is available again"
else
  echo "$REPLICA is already a standalone primary"
fi
aws route53 test-dns-answer --hosted-zone-id "$(zone_id)" --record-name "$RECORD" --record-type A \
  --query '[RecordName, join(`,`, RecordData), ResponseCode]' --output text ||
  echo "could not ask Route 53 what $RECORD answers"
