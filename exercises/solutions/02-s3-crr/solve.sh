#!/usr/bin/env bash
# Lab 02 reference solution (aws CLI): cross-region replication of SecureCart's invoices.
#
# Run it with `lab solve 02-s3-crr --tool cli [--step N]`, or yourself after `eval "$(lab env)"`:
#     bash solve.sh [--step N]
set -euo pipefail
: "${AWS_ENDPOINT_URL:?run  eval \"\$(lab env)\"  first}"
# aws CLI v1 ignores AWS_ENDPOINT_URL for some services: pass the sandbox's endpoint on every call.
aws() { command aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }

ACCOUNT=000000000000
SOURCE=securecart-invoices-use1
DESTINATION=securecart-invoices-usw2
ROLE=securecart-s3-replication

step_1() {  # Versioning on the source bucket and on the destination bucket
  aws s3api put-bucket-versioning --region us-east-1 --bucket "$SOURCE" --versioning-configuration Status=Enabled
  aws s3api put-bucket-versioning --region us-west-2 --bucket "$DESTINATION" --versioning-configuration Status=Enabled
  echo "versioning enabled on $SOURCE and $DESTINATION"
}

replication_role() {  # the IAM role S3 assumes to replicate
  if aws iam get-role --role-name "$ROLE" >/dev/null 2>&1; then
    echo "role $ROLE already exists"
  else
    aws iam create-role --role-name "$ROLE" --description "S3 replication of SecureCart invoices to us-west-2" \
      --assume-role-policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"sts:AssumeRole"}]}' >/dev/null
    echo "created role $ROLE"
  fi
  aws iam put-role-policy --role-name "$ROLE" --policy-name replicate-invoices --policy-document "{
    \"Version\": \"2012-10-17\",
    \"Statement\": [
      {\"Effect\": \"Allow\", \"Action\": [\"s3:GetReplicationConfiguration\", \"s3:ListBucket\"],
       \"Resource\": \"arn:aws:s3:::$SOURCE\"},
      {\"Effect\": \"Allow\", \"Action\": [\"s3:GetObjectVersionForReplication\", \"s3:GetObjectVersionAcl\", \"s3:GetObjectVersionTagging\"],
       \"Resource\": \"arn:aws:s3:::$SOURCE/*\"},
      {\"Effect\": \"Allow\", \"Action\": [\"s3:ReplicateObject\", \"s3:ReplicateDelete\", \"s3:ReplicateTags\"],
       \"Resource\": \"arn:aws:s3:::$DESTINATION/*\"}]}"
}

step_2() {  # A replication role and rule to the us-west-2 bucket (delete markers too); older invoices copied once
  replication_role
  aws s3api put-bucket-replication --region us-east-1 --bucket "$SOURCE" --replication-configuration "{
    \"Role\": \"arn:aws:iam::$ACCOUNT:role/$ROLE\",
    \"Rules\": [{\"ID\": \"invoices-to-usw2\", \"Status\": \"Enabled\", \"Priority\": 1, \"Filter\": {\"Prefix\": \"\"},
                \"DeleteMarkerReplication\": {\"Status\": \"Enabled\"},
                \"Destination\": {\"Bucket\": \"arn:aws:s3:::$DESTINATION\", \"StorageClass\": \"STANDARD\"}}]}"
  echo "replication rule invoices-to-usw2: $SOURCE -> $DESTINATION"
  # Replication only copies objects written after the rule exists; bring the older invoices across once.
  aws s3 sync "s3://$SOURCE" "s3://$DESTINATION" --source-region us-east-1 --region us-west-2 --only-show-errors
  echo "copied the invoices written before the rule"
}

STEPS=(1 2)
run_step() { echo "== step $1"; "step_$1"; }
if [[ ${1:-} == --step ]]; then
  [[ " ${STEPS[*]} " == *" ${2:-} "* ]] || { echo "no step ${2:-}; steps: ${STEPS[*]}" >&2; exit 2; }
  run_step "$2"
else
  for n in "${STEPS[@]}"; do run_step "$n"; done
fi
