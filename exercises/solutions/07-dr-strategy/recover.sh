#!/usr/bin/env bash
# Lab 07 documented recovery (aws CLI): promote the us-west-2 replica; Route 53 already answers with it.
#
# Run it with `lab solve 07-dr-strategy --recover --tool cli`, or yourself after `eval "$(lab env)"`:
#     bash recover.sh
set -euo pipefail
: "${AWS_ENDPOINT_URL:?run  eval \"\$(lab env)\"  first}"
aws() { command aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }

REPLICA=securecart-orders-db-usw2
ZONE=securecart.example.com
RECORD=orders-db.$ZONE

SOURCE=$(aws rds describe-db-instances --region us-west-2 --db-instance-identifier "$REPLICA" \
           --query 'DBInstances[0].ReadReplicaSourceDBInstanceIdentifier' --output text)
if [[ -n $SOURCE && $SOURCE != None ]]; then
  aws rds promote-read-replica --region us-west-2 --db-instance-identifier "$REPLICA" --backup-retention-period 7 >/dev/null
  echo "promoting $REPLICA: it becomes a standalone primary in us-west-2"
else
  echo "$REPLICA is already a standalone primary"
fi
ZONE_ID=$(aws route53 list-hosted-zones-by-name --dns-name "$ZONE" \
            --query "HostedZones[?Name=='$ZONE.'].Id | [0]" --output text)
aws route53 test-dns-answer --hosted-zone-id "$ZONE_ID" --record-name "$RECORD" --record-type CNAME \
  --query '[RecordName, join(`,`, RecordData), ResponseCode]' --output text ||
  echo "could not ask Route 53 what $RECORD answers"
