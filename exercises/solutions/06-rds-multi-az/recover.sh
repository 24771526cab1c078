#!/usr/bin/env bash
# Lab 06 documented recovery (aws CLI): nothing to repair -- confirm that RDS failed over to the standby.
#
# Run it with `lab solve 06-rds-multi-az --recover --tool cli`, or yourself after `eval "$(lab env)"`:
#     bash recover.sh
# A Multi-AZ instance fails over by itself and keeps its endpoint name; this shows where the primary runs now.
set -euo pipefail
: "${AWS_ENDPOINT_URL:?run  eval \"\$(lab env)\"  first}"
aws() { command aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }

DB=securecart-orders-db
aws rds describe-db-instances --region us-east-1 --db-instance-identifier "$DB" \
  --query 'DBInstances[0].{status: DBInstanceStatus, primary_az: AvailabilityZone, standby_az: SecondaryAvailabilityZone}' \
  --output table
aws rds describe-events --region us-east-1 --source-identifier "$DB" --source-type db-instance --duration 1440 \
  --query 'Events[].[Date, Message]' --output text
