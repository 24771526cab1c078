#!/usr/bin/env bash
# Lab 08 reference solution (aws CLI): a trail, a protected and locked vault, and a Backup Audit Manager framework.
#
# Run it with `lab solve 08-backup-monitoring --tool cli [--step N]`, or yourself after `eval "$(lab env)"`:
#     bash solve.sh [--step N]
set -euo pipefail
: "${AWS_ENDPOINT_URL:?run  eval \"\$(lab env)\"  first}"
aws() { command aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }

REGION=us-east-1
ACCOUNT=000000000000
TRAIL=securecart-trail
TRAIL_BUCKET=securecart-logs
VAULT=securecart-vault
ROLE=AWSBackupDefaultServiceRole
TABLE=securecart-order-history
FRAMEWORK=securecart_backup_controls

step_1() {  # A multi-region CloudTrail trail, logging, into the securecart-logs bucket
  aws s3api put-bucket-policy --bucket "$TRAIL_BUCKET" --policy "{
    \"Version\": \"2012-10-17\",
    \"Statement\": [
      {\"Sid\": \"AWSCloudTrailAclCheck\", \"Effect\": \"Allow\", \"Principal\": {\"Service\": \"cloudtrail.amazonaws.com\"},
       \"Action\": \"s3:GetBucketAcl\", \"Resource\": \"arn:aws:s3:::$TRAIL_BUCKET\"},
      {\"Sid\": \"AWSCloudTrailWrite\", \"Effect\": \"Allow\", \"Principal\": {\"Service\": \"cloudtrail.amazonaws.com\"},
       \"Action\": \"s3:PutObject\", \"Resource\": \"arn:aws:s3:::$TRAIL_BUCKET/AWSLogs/$ACCOUNT/*\",
       \"Condition\": {\"StringEquals\": {\"s3:x-amz-acl\": \"bucket-owner-full-control\"}}}]}"
  if aws cloudtrail get-trail --region "$REGION" --name "$TRAIL" >/dev/null 2>&1; then
    echo "trail $TRAIL already exists"
  else
    aws cloudtrail create-trail --region "$REGION" --name "$TRAIL" --s3-bucket-name "$TRAIL_BUCKET" \
      --is-multi-region-trail --include-global-service-events --enable-log-file-validation \
      --tags-list Key=app,Value=securecart >/dev/null
    echo "created trail $TRAIL -> s3://$TRAIL_BUCKET"
  fi
  aws cloudtrail start-logging --region "$REGION" --name "$TRAIL"
  echo "trail $TRAIL: logging=$(aws cloudtrail get-trail-status --region "$REGION" --name "$TRAIL" --query IsLogging --output text)"
}

backup_key() {
  local arn key_id
  if arn=$(aws kms describe-key --region "$REGION" --key-id alias/securecart-backup \
             --query KeyMetadata.Arn --output text 2>/dev/null); then
    echo "$arn"; return
  fi
  key_id=$(aws kms create-key --region "$REGION" --description "SecureCart AWS Backup vault key" \
             --query KeyMetadata.KeyId --output text)
  aws kms create-alias --region "$REGION" --alias-name alias/securecart-backup --target-key-id "$key_id"
  aws kms describe-key --region "$REGION" --key-id "$key_id" --query KeyMetadata.Arn --output text
}

step_2() {  # An encrypted vault holding a recovery point of the order history
  local table_arn job
  if ! aws backup describe-backup-vault --region "$REGION" --backup-vault-name "$VAULT" >/dev/null 2>&1; then
    aws backup create-backup-vault --region "$REGION" --backup-vault-name "$VAULT" \
      --encryption-key-arn "$(backup_key)" >/dev/null
    echo "created vault $VAULT"
  fi
  if ! aws iam get-role --role-name "$ROLE" >/dev/null 2>&1; then
    aws iam create-role --role-name "$ROLE" \
      --assume-role-policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"backup.amazonaws.com"},"Action":"sts:AssumeRole"}]}' >/dev/null
  fi
  aws iam attach-role-policy --role-name "$ROLE" \
    --policy-arn arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup
  table_arn=$(aws dynamodb describe-table --region "$REGION" --table-name "$TABLE" --query Table.TableArn --output text)
  job=$(aws backup start-backup-job --region "$REGION" --backup-vault-name "$VAULT" --resource-arn "$table_arn" \
          --iam-role-arn "arn:aws:iam::$ACCOUNT:role/$ROLE" --lifecycle DeleteAfterDays=35 \
          --query BackupJobId --output text)
  echo "backup job $job: $(aws backup describe-backup-job --region "$REGION" --backup-job-id "$job" --query State --output text)"
}

step_3() {  # A vault access policy that denies deleting recovery points, to everyone
  aws backup put-backup-vault-access-policy --region "$REGION" --backup-vault-name "$VAULT" --policy '{
    "Version": "2012-10-17",
    "Statement": [{"Sid": "DenyRecoveryPointDeletion", "Effect": "Deny", "Principal": {"AWS": "*"},
                   "Action": ["backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle"], "Resource": "*"}]}'
  echo "$VAULT: deleting recovery points is denied"
}

step_4() {  # Vault Lock: recovery points kept at least 7 days; compliance mode after a 3-day grace time
  aws backup put-backup-vault-lock-configuration --region "$REGION" --backup-vault-name "$VAULT" \
    --min-retention-days 7 --max-retention-days 365 --changeable-for-days 3
  echo "$VAULT: locked (7 to 365 days; the lock itself becomes immutable after 3 days)"
}

step_5() {  # A Backup Audit Manager framework with the controls that watch these protections
  if aws backup describe-framework --region "$REGION" --framework-name "$FRAMEWORK" >/dev/null 2>&1; then
    echo "framework $FRAMEWORK already exists"; return
  fi
  aws backup create-framework --region "$REGION" --framework-name "$FRAMEWORK" \
    --framework-description "SecureCart: backups that cannot be deleted" --framework-tags app=securecart \
    --framework-controls '[
      {"ControlName": "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED"},
      {"ControlName": "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK",
       "ControlInputParameters": [{"ParameterName": "minRetentionDays", "ParameterValue": "7"}]},
      {"ControlName": "BACKUP_RECOVERY_POINT_ENCRYPTED"},
      {"ControlName": "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK",
       "ControlInputParameters": [{"ParameterName": "requiredFrequencyUnit", "ParameterValue": "hours"},
                                  {"ParameterName": "requiredFrequencyValue", "ParameterValue": "24"},
                                  {"ParameterName": "requiredRetentionDays", "ParameterValue": "7"}]}]' >/dev/null
  echo "created framework $FRAMEWORK"
}

STEPS=(1 2 3 4 5)
run_step() { echo "== step $1"; "step_$1"; }
if [[ ${1:-} == --step ]]; then
  [[ " ${STEPS[*]} " == *" ${2:-} "* ]] || { echo "no step ${2:-}; steps: ${STEPS[*]}" >&2; exit 2; }
  run_step "$2"
else
  for n in "${STEPS[@]}"; do run_step "$n"; done
fi
