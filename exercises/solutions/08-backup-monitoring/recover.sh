#!/usr/bin/env bash
# Lab 08 documented recovery (aws CLI): confirm the recovery points survived, and find the attempt in CloudTrail.
#
# Run it with `lab solve 08-backup-monitoring --recover --tool cli`, or yourself after `eval "$(lab env)"`:
#     bash recover.sh
set -euo pipefail
: "${AWS_ENDPOINT_URL:?run  eval \"\$(lab env)\"  first}"
aws() { command aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }

VAULT=securecart-vault
echo "recovery points still in $VAULT:"
aws backup list-recovery-points-by-backup-vault --region us-east-1 --backup-vault-name "$VAULT" \
  --query 'RecoveryPoints[].[RecoveryPointArn, Status, ResourceType]' --output text
echo "DeleteRecoveryPoint calls recorded by CloudTrail:"
aws cloudtrail lookup-events --region us-east-1 \
  --lookup-attributes AttributeKey=EventName,AttributeValue=DeleteRecoveryPoint \
  --query 'Events[].[EventTime, Username, EventName]' --output text
aws backup describe-framework --region us-east-1 --framework-name securecart_backup_controls \
  --query '[FrameworkName, DeploymentStatus]' --output text
