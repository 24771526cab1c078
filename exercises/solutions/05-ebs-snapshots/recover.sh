#!/usr/bin/env bash
# Lab 05 documented recovery (aws CLI): a new backend data volume in us-west-2 from the newest copied snapshot.
#
# Run it with `lab solve 05-ebs-snapshots --recover --tool cli`, or yourself after `eval "$(lab env)"`:
#     bash recover.sh
set -euo pipefail
: "${AWS_ENDPOINT_URL:?run  eval \"\$(lab env)\"  first}"
aws() { command aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }

VOLUME_NAME=securecart-backend-data
SNAPSHOT=$(aws ec2 describe-snapshots --region us-west-2 --owner-ids self \
             --filters "Name=tag:Name,Values=$VOLUME_NAME" Name=status,Values=completed \
             --query 'sort_by(Snapshots, &StartTime)[-1].SnapshotId' --output text)
if [[ -z $SNAPSHOT || $SNAPSHOT == None ]]; then
  echo "no completed snapshot of $VOLUME_NAME in us-west-2: was one copied there before the incident?" >&2
  exit 1
fi
# Run again, this waits for the volume it made from that snapshot.
VOLUME=$(aws ec2 describe-volumes --region us-west-2 \
           --filters "Name=tag:Name,Values=$VOLUME_NAME" "Name=snapshot-id,Values=$SNAPSHOT" \
           --query 'Volumes[0].VolumeId' --output text)
if [[ -z $VOLUME || $VOLUME == None ]]; then
  VOLUME=$(aws ec2 create-volume --region us-west-2 --availability-zone us-west-2a --snapshot-id "$SNAPSHOT" \
             --volume-type gp3 \
             --tag-specifications "ResourceType=volume,Tags=[{Key=Name,Value=$VOLUME_NAME},{Key=app,Value=securecart}]" \
             --query VolumeId --output text)
  echo "volume $VOLUME created in us-west-2a from $SNAPSHOT"
fi
for i in 1 2 3; do
  STATE=$(aws ec2 describe-volumes --region us-west-2 --volume-ids "$VOLUME" --query 'Volumes[0].State' --output text)
  if [[ $STATE == available ]]; then
    # usable now; its blocks still load from the snapshot as they are first read (lazy loading)
    LOADED=$(aws ec2 describe-volume-status --region us-west-2 --volume-ids "$VOLUME" \
               --query 'VolumeStatuses[0].InitializationStatusDetails.Progress' --output text)
    echo "volume $VOLUME is available in us-west-2a (initialization $LOADED% done): attach it"
    exit 0
  fi
  [[ $i == 3 ]] || sleep 1
done
echo "volume $VOLUME is $STATE; move sim time on (lab clock advance 5m) and run this again" >&2
exit 75
