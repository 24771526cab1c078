#!/usr/bin/env bash
# Lab 07 reference solution (aws CLI): a pilot light in us-west-2 and Route 53 failover in front of it.
#
# Run it with `lab solve 07-dr-strategy --tool cli [--step N]`, or yourself after `eval "$(lab env)"`:
#     bash solve.sh [--step N]
set -euo pipefail
: "${AWS_ENDPOINT_URL:?run  eval \"\$(lab env)\"  first}"
# aws CLI v1 sends RDS calls in us-east-1 to AWS unless --endpoint-url is given: always pass it.
aws() { command aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }

ACCOUNT=000000000000
DB=securecart-orders-db
REPLICA=securecart-orders-db-usw2
ZONE=securecart.example.com
RECORD=orders-db.$ZONE

dr_key() {  # a KMS key in us-west-2 for the encrypted replica
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

replica_state() {
  local status
  status=$(aws rds describe-db-instances --region us-west-2 --db-instance-identifier "$REPLICA" \
             --query 'DBInstances[0].DBInstanceStatus' --output text)
  if [[ $status == available ]]; then echo ready; else echo "$status"; fi
}

source_field() {  # JMESPath of the orders database in us-east-1 -> its value
  aws rds describe-db-instances --region us-east-1 --db-instance-identifier "$DB" --query "DBInstances[0].$1" \
    --output text
}

source_state() {
  local status
  status=$(source_field DBInstanceStatus)
  if [[ $status == available ]]; then echo ready; else echo "$status"; fi
}

endpoint_of() {  # region identifier -> address
  aws rds describe-db-instances --region "$1" --db-instance-identifier "$2" \
    --query 'DBInstances[0].Endpoint.Address' --output text
}

step_1() {  # Pilot light: a cross-region read replica of the orders database in us-west-2
  # A read replica needs automated backups on its source, and a source that is available (not modifying or
  # backing up: switching backups on takes a few minutes).
  if [[ $(source_field BackupRetentionPeriod) == 0 && $(source_field PendingModifiedValues.BackupRetentionPeriod) == None ]]; then
    aws rds modify-db-instance --region us-east-1 --db-instance-identifier "$DB" --backup-retention-period 7 \
      --apply-immediately >/dev/null
  fi
  if ! aws rds describe-db-instances --region us-west-2 --db-instance-identifier "$REPLICA" >/dev/null 2>&1; then
    wait_until "$DB" source_state
    aws rds create-db-instance-read-replica --region us-west-2 --source-region us-east-1 \
      --db-instance-identifier "$REPLICA" --source-db-instance-identifier "arn:aws:rds:us-east-1:$ACCOUNT:db:$DB" \
      --kms-key-id "$(dr_key)" --db-instance-class db.t3.micro \
      --tags Key=app,Value=securecart Key=dr-role,Value=pilot-light >/dev/null
    echo "creating read replica $REPLICA in us-west-2"
  fi
  wait_until "read replica $REPLICA" replica_state
  echo "$REPLICA is available at $(endpoint_of us-west-2 "$REPLICA")"
}

step_2() {  # A health check on the primary and failover records for orders-db
  local zone_id primary replica check_id
  zone_id=$(aws route53 list-hosted-zones-by-name --dns-name "$ZONE" \
              --query "HostedZones[?Name=='$ZONE.'].Id | [0]" --output text)
  if [[ -z $zone_id || $zone_id == None ]]; then
    zone_id=$(aws route53 create-hosted-zone --name "$ZONE" --caller-reference "$ZONE-lab07" \
                --query HostedZone.Id --output text)
  fi
  primary=$(endpoint_of us-east-1 "$DB")
  replica=$(endpoint_of us-west-2 "$REPLICA")
  check_id=$(aws route53 list-health-checks \
               --query "HealthChecks[?HealthCheckConfig.FullyQualifiedDomainName=='$primary'].Id | [0]" --output text)
  if [[ -z $check_id || $check_id == None ]]; then
    check_id=$(aws route53 create-health-check --caller-reference "$DB-primary" --health-check-config \
                 "Type=TCP,FullyQualifiedDomainName=$primary,Port=5432,RequestInterval=10,FailureThreshold=3" \
                 --query HealthCheck.Id --output text)
    aws route53 change-tags-for-resource --resource-type healthcheck --resource-id "$check_id" \
      --add-tags Key=Name,Value="$DB-primary"
  fi
  echo "health check $check_id watches $primary:5432"
  aws route53 change-resource-record-sets --hosted-zone-id "$zone_id" --change-batch "{
    \"Comment\": \"SecureCart orders database: fail over to us-west-2\",
    \"Changes\": [
      {\"Action\": \"UPSERT\", \"ResourceRecordSet\": {\"Name\": \"$RECORD\", \"Type\": \"CNAME\",
        \"SetIdentifier\": \"primary-us-east-1\", \"Failover\": \"PRIMARY\", \"TTL\": 60,
        \"HealthCheckId\": \"$check_id\", \"ResourceRecords\": [{\"Value\": \"$primary\"}]}},
      {\"Action\": \"UPSERT\", \"ResourceRecordSet\": {\"Name\": \"$RECORD\", \"Type\": \"CNAME\",
        \"SetIdentifier\": \"secondary-us-west-2\", \"Failover\": \"SECONDARY\", \"TTL\": 60,
        \"ResourceRecords\": [{\"Value\": \"$replica\"}]}}]}" >/dev/null
  echo "$RECORD: PRIMARY -> $primary, SECONDARY -> $replica"
}

STEPS=(1 2)
run_step() { echo "== step $1"; "step_$1"; }
if [[ ${1:-} == --step ]]; then
  [[ " ${STEPS[*]} " == *" ${2:-} "* ]] || { echo "no step ${2:-}; steps: ${STEPS[*]}" >&2; exit 2; }
  run_step "$2"
else
  for n in "${STEPS[@]}"; do run_step "$n"; done
fi
