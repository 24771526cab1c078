#!/usr/bin/env bash
# Lab 10 documented recovery (aws CLI): promote the replica, launch the backend from DRS, point the shop's name at it.
#
# Run it with `lab solve 10-dr-pilot-light --recover --tool cli`, or yourself after `eval "$(lab env)"`:
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
  echo "promoting $REPLICA: it becomes a standalone primary in us-west-2"
fi

server=""
for id in $(aws drs describe-source-servers --region us-west-2 \
              --query "items[?replicationDirection=='FAILOVER'].sourceServerID" --output text); do
  if [[ $(aws drs get-launch-configuration --region us-west-2 --source-server-id "$id" --query name --output text) \
        == "$BACKEND" ]]; then
    server=$id
  fi
done
[[ -n $server ]] || { echo "no DRS source server replicates $BACKEND in us-west-2" >&2; exit 1; }
job=$(aws drs describe-jobs --region us-west-2 \
        --query "items[?initiatedBy=='START_RECOVERY' && participatingServers[0].sourceServerID=='$server'].jobID | [0]" \
        --output text)
if [[ -z $job || $job == None ]]; then
  job=$(aws drs start-recovery --region us-west-2 --source-servers "sourceServerID=$server" --query job.jobID --output text)
  echo "recovery job $job launches $server from its latest data"
fi
status=$(aws drs describe-jobs --region us-west-2 --filters "jobIDs=$job" --query 'items[0].status' --output text)
instance=$(aws drs describe-jobs --region us-west-2 --filters "jobIDs=$job" \
             --query 'items[0].participatingServers[0].recoveryInstanceID' --output text)
echo "job $job: $status"
if [[ -n $instance && $instance != None ]]; then
  ip=$(aws ec2 describe-instances --region us-west-2 --instance-ids "$instance" \
         --query 'Reservations[0].Instances[0].PublicIpAddress' --output text)
  failover_record SECONDARY "$ip"
fi
if [[ $status != COMPLETED ]]; then
  echo "the recovery instance is not up yet; move sim time on (lab clock advance 5m) and run this again" >&2
  exit "$NOT_READY"
fi
echo "$BACKEND runs in us-west-2 on $instance"
