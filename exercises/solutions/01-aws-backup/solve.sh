#!/usr/bin/env bash
# Lab 01 reference solution (aws CLI): AWS Backup for SecureCart.
#
# Run it with `lab solve 01-aws-backup --tool cli [--step N]`, or yourself after `eval "$(lab env)"`:
#     bash solve.sh [--step N]
# Every step can run again: what already exists is left as it is.
set -euo pipefail
: "${AWS_ENDPOINT_URL:?run  eval \"\$(lab env)\"  first}"
# aws CLI v1 ignores AWS_ENDPOINT_URL for some services: pass the sandbox's endpoint on every call.
aws() { command aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }

PRIMARY=us-east-1
DR=us-west-2
ACCOUNT=000000000000
ROLE=AWSBackupDefaultServiceRole
PLAN=securecart-daily
TABLE=securecart-order-history

NOT_READY=75  # EX_TEMPFAIL: `lab solve` moves sim time on and runs the step again

vault_for() { if [[ $1 == "$PRIMARY" ]]; then echo securecart-vault; else echo securecart-vault-dr; fi; }

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

backup_key() {  # the KMS key that encrypts a region's vault, created once and found by its alias
  local region=$1 arn key_id
  if arn=$(aws kms describe-key --region "$region" --key-id alias/securecart-backup \
             --query KeyMetadata.Arn --output text 2>/dev/null); then
    echo "$arn"; return
  fi
  key_id=$(aws kms create-key --region "$region" --description "SecureCart AWS Backup vault key" \
             --tags TagKey=app,TagValue=securecart --query KeyMetadata.KeyId --output text)
  aws kms create-alias --region "$region" --alias-name alias/securecart-backup --target-key-id "$key_id"
  aws kms describe-key --region "$region" --key-id "$key_id" --query KeyMetadata.Arn --output text
}

step_1() {  # Encrypted backup vaults in us-east-1 and us-west-2
  local region vault
  for region in "$PRIMARY" "$DR"; do
    vault=$(vault_for "$region")
    if aws backup describe-backup-vault --region "$region" --backup-vault-name "$vault" >/dev/null 2>&1; then
      echo "vault $vault already exists in $region"
    else
      aws backup create-backup-vault --region "$region" --backup-vault-name "$vault" \
        --encryption-key-arn "$(backup_key "$region")" --backup-vault-tags app=securecart >/dev/null
      echo "created vault $vault in $region"
    fi
  done
}

backup_role() {  # the IAM role AWS Backup assumes to back up and restore (created once)
  if aws iam get-role --role-name "$ROLE" >/dev/null 2>&1; then
    echo "role $ROLE already exists"
  else
    aws iam create-role --role-name "$ROLE" \
      --description "Lets AWS Backup back up and restore SecureCart's resources" \
      --assume-role-policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"backup.amazonaws.com"},"Action":"sts:AssumeRole"}]}' >/dev/null
    echo "created role $ROLE"
  fi
  aws iam attach-role-policy --role-name "$ROLE" \
    --policy-arn arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup
  aws iam attach-role-policy --role-name "$ROLE" \
    --policy-arn arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores
}

plan_id() {
  aws backup list-backup-plans --region "$PRIMARY" \
    --query "BackupPlansList[?BackupPlanName=='$PLAN'].BackupPlanId | [0]" --output text
}

step_2() {  # A daily backup plan: 7 days' retention, every recovery point copied to the us-west-2 vault
  local plan id
  plan=$(cat <<JSON
{"BackupPlanName": "$PLAN",
 "Rules": [{"RuleName": "daily-0500-utc",
            "TargetBackupVaultName": "$(vault_for "$PRIMARY")",
            "ScheduleExpression": "cron(0 5 * * ? *)",
            "StartWindowMinutes": 60, "CompletionWindowMinutes": 180,
            "Lifecycle": {"DeleteAfterDays": 7},
            "RecoveryPointTags": {"app": "securecart"},
            "CopyActions": [{"DestinationBackupVaultArn": "arn:aws:backup:$DR:$ACCOUNT:backup-vault:$(vault_for "$DR")",
                             "Lifecycle": {"DeleteAfterDays": 7}}]}]}
JSON
)
  id=$(plan_id)
  if [[ -n $id && $id != None ]]; then
    aws backup update-backup-plan --region "$PRIMARY" --backup-plan-id "$id" --backup-plan "$plan" >/dev/null
    echo "updated plan $PLAN"
  else
    aws backup create-backup-plan --region "$PRIMARY" --backup-plan "$plan" --backup-plan-tags app=securecart >/dev/null
    echo "created plan $PLAN"
  fi
}

step_3() {  # Assign resources by tag (everything tagged app=securecart), through AWS Backup's IAM role
  local id existing
  backup_role
  id=$(plan_id)
  existing=$(aws backup list-backup-selections --region "$PRIMARY" --backup-plan-id "$id" \
               --query "BackupSelectionsList[?SelectionName=='securecart-tagged'].SelectionId | [0]" --output text)
  if [[ -n $existing && $existing != None ]]; then
    echo "selection securecart-tagged already exists"; return
  fi
  aws backup create-backup-selection --region "$PRIMARY" --backup-plan-id "$id" --backup-selection \
    "{\"SelectionName\": \"securecart-tagged\", \"IamRoleArn\": \"arn:aws:iam::$ACCOUNT:role/$ROLE\",
      \"ListOfTags\": [{\"ConditionType\": \"STRINGEQUALS\", \"ConditionKey\": \"app\", \"ConditionValue\": \"securecart\"}]}" >/dev/null
  echo "created selection securecart-tagged (tag app=securecart)"
}

job_state() {  # job -> "ready" once COMPLETED, else its state and how far it is
  local state done
  read -r state done < <(aws backup describe-backup-job --region "$PRIMARY" --backup-job-id "$1" \
                           --query '[State, PercentDone]' --output text)
  case $state in
    COMPLETED) echo ready ;;
    FAILED|EXPIRED|ABORTED)
      echo "backup job $1 ended $state: $(aws backup describe-backup-job --region "$PRIMARY" --backup-job-id "$1" \
              --query StatusMessage --output text)" >&2
      exit 1 ;;
    *) echo "$state ($done% done)" ;;
  esac
}

step_4() {  # An on-demand backup of the order history table now; waits until the job is COMPLETED
  local table_arn job
  table_arn=$(aws dynamodb describe-table --region "$PRIMARY" --table-name "$TABLE" --query Table.TableArn --output text)
  # Run again, this step waits for the on-demand job (no CreatedBy plan) it started before.
  job=$(aws backup list-backup-jobs --region "$PRIMARY" --by-resource-arn "$table_arn" \
          --by-backup-vault-name "$(vault_for "$PRIMARY")" --output text --query \
          "reverse(sort_by(BackupJobs[?CreatedBy == null && !contains(['FAILED', 'EXPIRED', 'ABORTED'], State)], &CreationDate))[0].BackupJobId")
  if [[ -n $job && $job != None ]]; then
    echo "backup job $job for $TABLE was started before"
  else
    job=$(aws backup start-backup-job --region "$PRIMARY" --backup-vault-name "$(vault_for "$PRIMARY")" \
            --resource-arn "$table_arn" --iam-role-arn "arn:aws:iam::$ACCOUNT:role/$ROLE" \
            --lifecycle DeleteAfterDays=7 --recovery-point-tags app=securecart --query BackupJobId --output text)
    echo "started backup job $job for $TABLE"
  fi
  wait_until "backup job $job" job_state "$job"
  echo "backup job $job COMPLETED: recovery point $(aws backup describe-backup-job --region "$PRIMARY" \
    --backup-job-id "$job" --query RecoveryPointArn --output text)"
}

STEPS=(1 2 3 4)
run_step() { echo "== step $1"; "step_$1"; }
if [[ ${1:-} == --step ]]; then
  [[ " ${STEPS[*]} " == *" ${2:-} "* ]] || { echo "no step ${2:-}; steps: ${STEPS[*]}" >&2; exit 2; }
  run_step "$2"
else
  for n in "${STEPS[@]}"; do run_step "$n"; done
fi
