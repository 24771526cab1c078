// The AWS SDK for JavaScript v3 plays the three seed labs end to end against a running sandbox, as a learner
// using JavaScript would: 01 AWS Backup (vaults, plan, selection, on-demand backup, restore), 02 S3 cross-region
// replication (versioning, role, rule, uploads in every checksum form the SDK sends, replicas, a prior version
// restored), 03 RDS (retention, manual snapshot, copy to us-west-2, point-in-time restore), and CloudTrail.
//
// Run by tests/integration/test_js_sdk.py. Environment: AWS_ENDPOINT_URL (the sandbox), LAB_COMMAND (a JSON
// array: the `lab` command) and LAB_STATE_DIR (the sandbox's state dir, read by `lab`). Every step prints
// "ok <step>" or "FAILED <step>: <error>"; the last line is a JSON summary the test reads. Exit 1 on failure.

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";

import { BackupClient, CreateBackupPlanCommand, CreateBackupSelectionCommand, CreateBackupVaultCommand,
  DescribeBackupJobCommand, DescribeBackupVaultCommand, DescribeRestoreJobCommand, GetRecoveryPointRestoreMetadataCommand,
  ListRecoveryPointsByBackupVaultCommand, StartBackupJobCommand, StartRestoreJobCommand } from "@aws-sdk/client-backup";
import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { DescribeTableCommand, DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { DescribeVolumesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { AttachRolePolicyCommand, CreateRoleCommand, IAMClient, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { CopyDBSnapshotCommand, CreateDBSnapshotCommand, DescribeDBInstancesCommand, DescribeDBSnapshotsCommand,
  ModifyDBInstanceCommand, RDSClient, RestoreDBInstanceToPointInTimeCommand } from "@aws-sdk/client-rds";
import { CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand, GetObjectAttributesCommand,
  GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, PutBucketReplicationCommand,
  PutBucketVersioningCommand, PutObjectCommand, S3Client, UploadPartCommand } from "@aws-sdk/client-s3";
import { Xxh64 } from "@aws-sdk/checksums/xxh";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";

const PRIMARY = "us-east-1";
const DR = "us-west-2";
const ACCOUNT = "000000000000";
const TABLE = "securecart-order-history";
const DB = "securecart-orders-db";
const SOURCE_BUCKET = "securecart-invoices-use1";
const DR_BUCKET = "securecart-invoices-usw2";

const endpoint = process.env.AWS_ENDPOINT_URL;
const labCommand = JSON.parse(process.env.LAB_COMMAND ?? "null");
if (!endpoint || !labCommand) {
  console.error("AWS_ENDPOINT_URL and LAB_COMMAND must be set (see tests/integration/test_js_sdk.py)");
  process.exit(2);
}
// maxAttempts 1: a refusal or a 5xx shows at once instead of being retried away.
const base = (region) => ({ region, endpoint, maxAttempts: 1,
  credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? "test",
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? "test" } });
const clients = new Map();
const client = (Kind, region = PRIMARY, extra = {}, variant = "") => {
  const key = `${Kind.name}/${region}/${variant}`;
  if (!clients.has(key)) clients.set(key, new Kind({ ...base(region), ...extra }));
  return clients.get(key);
};
// XXHASH64 is one of S3's algorithms that the SDK computes only with an implementation given to it.
const s3 = (region = PRIMARY) => client(S3Client, region,
  { forcePathStyle: true, checksumAlgorithms: { XXHASH64: Xxh64 } }, "path-style");

function lab(...args) {
  return execFileSync(labCommand[0], [...labCommand.slice(1), ...args], { encoding: "utf8", env: process.env });
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

async function refused(promise, code) {
  try {
    await promise;
  } catch (error) {
    expect(error.name === code, `expected ${code}, got ${error.name}: ${error.message}`);
    return error;
  }
  throw new Error(`expected ${code}, the call succeeded`);
}

const passed = [];
const summary = {};

async function step(name, action) {
  const started = Date.now();
  try {
    const detail = await action();
    passed.push(name);
    console.log(`ok ${name}${detail ? ` (${detail})` : ""} [${Date.now() - started} ms]`);
  } catch (error) {
    console.log(`FAILED ${name}: ${error.name}: ${error.message}`);
    console.log(JSON.stringify({ passed: passed.length, failed: name, summary }));
    process.exit(1);
  }
}

const sha256 = (data) => createHash("sha256").update(data).digest("hex");
const text = async (answer) => Buffer.from(await answer.Body.transformToByteArray());
const trust = (service) => JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow",
  Principal: { Service: service }, Action: "sts:AssumeRole" }] });

// A CRC32 that lies: what a corrupted upload looks like to S3 (the body and its checksum disagree).
class LyingCrc32 {
  update() {}
  async digest() { return new Uint8Array([0xde, 0xad, 0xbe, 0xef]); }
  reset() {}
}

// -- set-up -------------------------------------------------------------------------------------------------

await step("sts who am I", async () => {
  const identity = await client(STSClient).send(new GetCallerIdentityCommand({}));
  expect(identity.Account === ACCOUNT, `account ${identity.Account}`);
  lab("clock", "pause");  // sim time moves only when this script advances it
  return identity.Arn;
});

// -- lab 03 first: point-in-time restore needs the retention on before anything else ------------------------

const rds = client(RDSClient);
await step("03 automated backups kept 7 days", async () => {
  const modified = await rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: DB, BackupRetentionPeriod: 7,
    PreferredBackupWindow: "03:00-03:30", ApplyImmediately: true }));
  // 0 -> 7 days: applied while the instance is modifying (PendingModifiedValues until then), then backing-up
  expect(modified.DBInstance.PendingModifiedValues?.BackupRetentionPeriod === 7, JSON.stringify(modified.DBInstance));
  return modified.DBInstance.DBInstanceStatus;
});

await step("03 the instance is available again (RDS refuses a snapshot before)", async () => {
  const early = await rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: DB,
    DBSnapshotIdentifier: "securecart-orders-too-soon" })).then(() => null, (error) => error);
  // the SDK names the exception by its shape (InvalidDBInstanceStateFault), whose wire code this is
  expect(early?.Code === "InvalidDBInstanceState" || early?.name?.startsWith("InvalidDBInstanceState"),
    `a snapshot of a modifying instance: ${early?.name} ${early?.message}`);
  lab("clock", "advance", "5m");
  const instance = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: DB }))).DBInstances[0];
  expect(instance.DBInstanceStatus === "available" && instance.BackupRetentionPeriod === 7,
    `${instance.DBInstanceStatus}, ${instance.BackupRetentionPeriod} days`);
});

await step("03 manual snapshot", async () => {
  const snapshot = await rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: DB,
    DBSnapshotIdentifier: "securecart-orders-js", Tags: [{ Key: "app", Value: "securecart" }] }));
  return snapshot.DBSnapshot.Status;
});

// -- lab 01 -------------------------------------------------------------------------------------------------

const vaults = { [PRIMARY]: "securecart-vault", [DR]: "securecart-vault-dr" };
await step("01 encrypted vaults in both regions", async () => {
  for (const [region, vault] of Object.entries(vaults)) {
    const kms = client(KMSClient, region);
    const key = (await kms.send(new CreateKeyCommand({ Description: "SecureCart AWS Backup vault key",
      Tags: [{ TagKey: "app", TagValue: "securecart" }] }))).KeyMetadata;
    await kms.send(new CreateAliasCommand({ AliasName: "alias/securecart-backup", TargetKeyId: key.KeyId }));
    const backup = client(BackupClient, region);
    await backup.send(new CreateBackupVaultCommand({ BackupVaultName: vault, EncryptionKeyArn: key.Arn,
      BackupVaultTags: { app: "securecart" } }));
    const described = await backup.send(new DescribeBackupVaultCommand({ BackupVaultName: vault }));
    expect(described.EncryptionKeyArn === key.Arn, `${vault} is encrypted with ${described.EncryptionKeyArn}`);
  }
});

const backup = client(BackupClient);
let planId;
await step("01 daily plan kept 7 days, copied to us-west-2", async () => {
  const plan = await backup.send(new CreateBackupPlanCommand({ BackupPlan: { BackupPlanName: "securecart-daily",
    Rules: [{ RuleName: "daily-0500-utc", TargetBackupVaultName: vaults[PRIMARY],
      ScheduleExpression: "cron(0 5 * * ? *)", StartWindowMinutes: 60, CompletionWindowMinutes: 180,
      Lifecycle: { DeleteAfterDays: 7 }, RecoveryPointTags: { app: "securecart" },
      CopyActions: [{ DestinationBackupVaultArn: `arn:aws:backup:${DR}:${ACCOUNT}:backup-vault:${vaults[DR]}`,
        Lifecycle: { DeleteAfterDays: 7 } }] }] }, BackupPlanTags: { app: "securecart" } }));
  planId = plan.BackupPlanId;
  return planId;
});

const backupRole = `arn:aws:iam::${ACCOUNT}:role/AWSBackupDefaultServiceRole`;
await step("01 resources assigned by tag through AWS Backup's role", async () => {
  const iam = client(IAMClient);
  await iam.send(new CreateRoleCommand({ RoleName: "AWSBackupDefaultServiceRole",
    AssumeRolePolicyDocument: trust("backup.amazonaws.com") }));
  for (const policy of ["AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores"]) {
    await iam.send(new AttachRolePolicyCommand({ RoleName: "AWSBackupDefaultServiceRole",
      PolicyArn: `arn:aws:iam::aws:policy/service-role/${policy}` }));
  }
  await backup.send(new CreateBackupSelectionCommand({ BackupPlanId: planId, BackupSelection: {
    SelectionName: "securecart-tagged", IamRoleArn: backupRole,
    ListOfTags: [{ ConditionType: "STRINGEQUALS", ConditionKey: "app", ConditionValue: "securecart" }] } }));
  const volumes = await client(EC2Client).send(new DescribeVolumesCommand({
    Filters: [{ Name: "tag:app", Values: ["securecart"] }] }));
  expect(volumes.Volumes.length >= 1, "no EBS volume tagged app=securecart to protect");
  return `${volumes.Volumes.length} tagged volume(s) among the protected`;
});

const dynamodb = client(DynamoDBClient);
// The primary keys of every item of a table, as comparable strings.
async function keysOf(table) {
  const schema = (await dynamodb.send(new DescribeTableCommand({ TableName: table }))).Table.KeySchema;
  const keys = new Set();
  let start;
  do {
    const page = await dynamodb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    for (const item of page.Items) keys.add(JSON.stringify(schema.map(({ AttributeName }) => item[AttributeName])));
    start = page.LastEvaluatedKey;
  } while (start);
  return keys;
}
let backupJob;
let keysAtBackup;
await step("01 on-demand backup of the order history", async () => {
  const table = (await dynamodb.send(new DescribeTableCommand({ TableName: TABLE }))).Table;
  keysAtBackup = await keysOf(TABLE);
  const job = await backup.send(new StartBackupJobCommand({ BackupVaultName: vaults[PRIMARY],
    ResourceArn: table.TableArn, IamRoleArn: backupRole, Lifecycle: { DeleteAfterDays: 7 } }));
  backupJob = job.BackupJobId;
  return `${keysAtBackup.size} items, job ${backupJob}`;
});

// -- lab 02 -------------------------------------------------------------------------------------------------

await step("02 versioning on both buckets", async () => {
  for (const [region, bucket] of [[PRIMARY, SOURCE_BUCKET], [DR, DR_BUCKET]]) {
    await s3(region).send(new PutBucketVersioningCommand({ Bucket: bucket,
      VersioningConfiguration: { Status: "Enabled" } }));
  }
});

await step("02 replication role and rule to us-west-2", async () => {
  const iam = client(IAMClient);
  await iam.send(new CreateRoleCommand({ RoleName: "securecart-s3-replication",
    AssumeRolePolicyDocument: trust("s3.amazonaws.com") }));
  await iam.send(new PutRolePolicyCommand({ RoleName: "securecart-s3-replication", PolicyName: "replicate-invoices",
    PolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [
      { Effect: "Allow", Action: ["s3:GetReplicationConfiguration", "s3:ListBucket"],
        Resource: `arn:aws:s3:::${SOURCE_BUCKET}` },
      { Effect: "Allow", Action: ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl",
        "s3:GetObjectVersionTagging"], Resource: `arn:aws:s3:::${SOURCE_BUCKET}/*` },
      { Effect: "Allow", Action: ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
        Resource: `arn:aws:s3:::${DR_BUCKET}/*` }] }) }));
  await s3().send(new PutBucketReplicationCommand({ Bucket: SOURCE_BUCKET, ReplicationConfiguration: {
    Role: `arn:aws:iam::${ACCOUNT}:role/securecart-s3-replication`,
    Rules: [{ ID: "invoices-to-usw2", Status: "Enabled", Priority: 1, Filter: { Prefix: "" },
      DeleteMarkerReplication: { Status: "Enabled" },
      Destination: { Bucket: `arn:aws:s3:::${DR_BUCKET}`, StorageClass: "STANDARD" } }] } }));
});

// Every upload form the SDK sends: a buffered body (checksum header), a stream (aws-chunked with a trailing
// checksum), each checksum algorithm it has, and a multipart upload.
const uploads = {
  "invoices/js-header-crc32.json": { Body: JSON.stringify({ order: "js-1", total: 42.5 }) },
  "invoices/js-trailer-crc32.json": { Body: "stream", data: Buffer.from(JSON.stringify({ order: "js-2", lines: 3 }).repeat(400)) },
  "invoices/js-trailer-crc64nvme.json": { Body: "stream", ChecksumAlgorithm: "CRC64NVME", data: Buffer.from("nvme ".repeat(5000)) },
  "invoices/js-header-crc32c.json": { Body: "crc32c body", ChecksumAlgorithm: "CRC32C" },
  "invoices/js-header-sha1.json": { Body: "sha1 body", ChecksumAlgorithm: "SHA1" },
  "invoices/js-header-sha256.json": { Body: "sha256 body", ChecksumAlgorithm: "SHA256" },
  "invoices/js-header-md5.json": { Body: "md5 body", ChecksumAlgorithm: "MD5" },
  "invoices/js-header-xxhash64.json": { Body: "xxhash64 body", ChecksumAlgorithm: "XXHASH64" },
};
await step("02 uploads in every checksum form", async () => {
  for (const [key, upload] of Object.entries(uploads)) {
    const { data, Body, ...options } = upload;
    const body = Body === "stream" ? Readable.from([data.subarray(0, 7000), data.subarray(7000)]) : Body;
    upload.bytes = data ?? Buffer.from(Body);
    const put = await s3().send(new PutObjectCommand({ Bucket: SOURCE_BUCKET, Key: key, Body: body,
      ContentLength: data ? data.length : undefined, ContentType: "application/json", ...options }));
    upload.version = put.VersionId;
    expect(put.ChecksumType === "FULL_OBJECT", `${key}: PutObject answered ChecksumType ${put.ChecksumType}`);
  }
  return `${Object.keys(uploads).length} objects`;
});

await step("02 a corrupted upload is refused on upload, not found later on read", async () => {
  const lying = client(S3Client, PRIMARY,
    { forcePathStyle: true, checksumAlgorithms: { CRC32: LyingCrc32 } }, "lying");
  await refused(lying.send(new PutObjectCommand({ Bucket: SOURCE_BUCKET, Key: "invoices/js-corrupt-header.json",
    Body: "bytes that do not match their checksum" })), "BadDigest");
  const stream = Readable.from([Buffer.from("a stream whose trailer lies ".repeat(100))]);
  await refused(lying.send(new PutObjectCommand({ Bucket: SOURCE_BUCKET, Key: "invoices/js-corrupt-trailer.json",
    Body: stream, ContentLength: 2800 })), "BadDigest");
  for (const key of ["invoices/js-corrupt-header.json", "invoices/js-corrupt-trailer.json"]) {
    await refused(s3().send(new HeadObjectCommand({ Bucket: SOURCE_BUCKET, Key: key })), "NotFound");
  }
});

const multipartKey = "invoices/js-multipart.bin";
const multipartParts = [Buffer.alloc(5 * 1024 * 1024, 7), Buffer.alloc(1024 * 1024, 9)];
await step("02 a multipart upload with CRC32 checksums", async () => {
  const { UploadId } = await s3().send(new CreateMultipartUploadCommand({ Bucket: SOURCE_BUCKET, Key: multipartKey,
    ChecksumAlgorithm: "CRC32" }));
  const parts = [];
  for (const [index, part] of multipartParts.entries()) {
    const answer = await s3().send(new UploadPartCommand({ Bucket: SOURCE_BUCKET, Key: multipartKey, UploadId,
      PartNumber: index + 1, Body: part, ChecksumAlgorithm: "CRC32" }));
    parts.push({ PartNumber: index + 1, ETag: answer.ETag, ChecksumCRC32: answer.ChecksumCRC32 });
  }
  await s3().send(new CompleteMultipartUploadCommand({ Bucket: SOURCE_BUCKET, Key: multipartKey, UploadId,
    MultipartUpload: { Parts: parts } }));
  const head = await s3().send(new HeadObjectCommand({ Bucket: SOURCE_BUCKET, Key: multipartKey, ChecksumMode: "ENABLED" }));
  expect(head.ChecksumType === "COMPOSITE" && head.ChecksumCRC32?.endsWith("-2"),
    `multipart checksum ${head.ChecksumCRC32} ${head.ChecksumType}`);
  return `${head.ContentLength} bytes, ${head.ChecksumCRC32}`;
});

// -- sim time: the backup job, the snapshot and replication run ---------------------------------------------

await step("clock advance 15m", async () => lab("clock", "advance", "15m").trim());

await step("01 the backup job completed", async () => {
  const job = await backup.send(new DescribeBackupJobCommand({ BackupJobId: backupJob }));
  expect(job.State === "COMPLETED", `backup job ${job.State}`);
  const points = await backup.send(new ListRecoveryPointsByBackupVaultCommand({ BackupVaultName: vaults[PRIMARY] }));
  expect(points.RecoveryPoints.some((point) => point.RecoveryPointArn === job.RecoveryPointArn),
    "the recovery point is not in the vault");
  summary.recoveryPoint = job.RecoveryPointArn;
  return job.RecoveryPointArn;
});

await step("02 replicas appear in us-west-2, intact", async () => {
  for (const [key, upload] of Object.entries(uploads)) {
    const got = await s3(DR).send(new GetObjectCommand({ Bucket: DR_BUCKET, Key: key, ChecksumMode: "ENABLED" }));
    expect(got.ReplicationStatus === "REPLICA", `${key}: ${got.ReplicationStatus}`);
    const body = await text(got);  // the SDK validates a returned full-object checksum while reading
    expect(sha256(body) === sha256(upload.bytes), `${key}: the replica differs from the upload`);
  }
  const source = await s3().send(new HeadObjectCommand({ Bucket: SOURCE_BUCKET, Key: "invoices/js-header-crc32.json" }));
  expect(source.ReplicationStatus === "COMPLETED", `source replication status ${source.ReplicationStatus}`);
  const replica = await s3(DR).send(new HeadObjectCommand({ Bucket: DR_BUCKET, Key: multipartKey }));
  expect(replica.ContentLength === 6 * 1024 * 1024, `multipart replica of ${replica.ContentLength} bytes`);
  const attributes = await s3().send(new GetObjectAttributesCommand({ Bucket: SOURCE_BUCKET,
    Key: "invoices/js-header-sha256.json", ObjectAttributes: ["Checksum", "ObjectSize"] }));
  expect(attributes.Checksum?.ChecksumType === "FULL_OBJECT" && attributes.Checksum?.ChecksumSHA256,
    `GetObjectAttributes: ${JSON.stringify(attributes.Checksum)}`);
  return `${Object.keys(uploads).length + 1} replicas`;
});

const overwritten = "invoices/js-header-crc32.json";
await step("02 an invoice overwritten with junk, replicated too", async () => {
  await s3().send(new PutObjectCommand({ Bucket: SOURCE_BUCKET, Key: overwritten, Body: "junk junk junk" }));
});

await step("03 the snapshot is available; copied to us-west-2 with a us-west-2 key", async () => {
  const snapshot = (await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: "securecart-orders-js" })))
    .DBSnapshots[0];
  expect(snapshot.Status === "available", `snapshot ${snapshot.Status}`);
  const key = (await client(KMSClient, DR).send(new CreateKeyCommand({ Description: "SecureCart RDS copies" })))
    .KeyMetadata.Arn;
  const copy = await client(RDSClient, DR).send(new CopyDBSnapshotCommand({
    SourceDBSnapshotIdentifier: snapshot.DBSnapshotArn, TargetDBSnapshotIdentifier: "securecart-orders-js-usw2",
    SourceRegion: PRIMARY, KmsKeyId: key, CopyTags: true }));
  return copy.DBSnapshot.Status;
});

await step("03 point-in-time restore as a new instance", async () => {
  const source = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: DB }))).DBInstances[0];
  expect(source.LatestRestorableTime instanceof Date, `no LatestRestorableTime: ${source.LatestRestorableTime}`);
  const restored = await rds.send(new RestoreDBInstanceToPointInTimeCommand({ SourceDBInstanceIdentifier: DB,
    TargetDBInstanceIdentifier: "securecart-orders-db-js", RestoreTime: source.LatestRestorableTime,
    DBInstanceClass: source.DBInstanceClass, Tags: [{ Key: "app", Value: "securecart" }] }));
  summary.restoreTime = source.LatestRestorableTime.toISOString();
  return `to ${summary.restoreTime}: ${restored.DBInstance.DBInstanceStatus}`;
});

await step("01 restore the recovery point as a new table", async () => {
  const metadata = (await backup.send(new GetRecoveryPointRestoreMetadataCommand({ BackupVaultName: vaults[PRIMARY],
    RecoveryPointArn: summary.recoveryPoint }))).RestoreMetadata;
  const job = await backup.send(new StartRestoreJobCommand({ RecoveryPointArn: summary.recoveryPoint,
    ResourceType: "DynamoDB", IamRoleArn: backupRole,
    Metadata: { ...metadata, TargetTableName: `${TABLE}-restored` } }));
  summary.restoreJob = job.RestoreJobId;
  return job.RestoreJobId;
});

await step("clock advance 1h", async () => lab("clock", "advance", "1h").trim());

await step("01 the restored table holds the order history as backed up", async () => {
  const job = await backup.send(new DescribeRestoreJobCommand({ RestoreJobId: summary.restoreJob }));
  expect(job.Status === "COMPLETED", `restore job ${job.Status}: ${job.StatusMessage ?? ""}`);
  const restored = await keysOf(`${TABLE}-restored`);
  const missing = [...keysAtBackup].filter((key) => !restored.has(key));
  expect(missing.length === 0, `${missing.length} items missing from the restored table, e.g. ${missing[0]}`);
  return `${restored.size} items`;
});

await step("02 the prior version restored in us-west-2", async () => {
  const dr = s3(DR);
  const versions = (await dr.send(new ListObjectVersionsCommand({ Bucket: DR_BUCKET, Prefix: overwritten })))
    .Versions.filter((version) => version.Key === overwritten);
  expect(versions.length >= 2, `${versions.length} versions of the replica`);
  const current = await text(await dr.send(new GetObjectCommand({ Bucket: DR_BUCKET, Key: overwritten })));
  expect(current.toString() === "junk junk junk", `the junk did not replicate: ${current}`);
  const good = versions.filter((version) => !version.IsLatest)
    .sort((a, b) => b.LastModified - a.LastModified)[0];
  await dr.send(new CopyObjectCommand({ Bucket: DR_BUCKET, Key: overwritten,
    CopySource: `${DR_BUCKET}/${overwritten}?versionId=${good.VersionId}` }));
  const back = await text(await dr.send(new GetObjectCommand({ Bucket: DR_BUCKET, Key: overwritten,
    ChecksumMode: "ENABLED" })));
  expect(back.equals(uploads[overwritten].bytes), `restored content: ${back}`);
  return `version ${good.VersionId}`;
});

await step("03 the copy in us-west-2 and the restored instance are available", async () => {
  const copy = (await client(RDSClient, DR).send(new DescribeDBSnapshotsCommand({
    DBSnapshotIdentifier: "securecart-orders-js-usw2" }))).DBSnapshots[0];
  expect(copy.Status === "available", `copy ${copy.Status}`);
  expect(copy.SourceRegion === PRIMARY || copy.SourceDBSnapshotIdentifier?.includes(PRIMARY),
    `the copy does not name its source: ${JSON.stringify(copy)}`);
  const restored = (await rds.send(new DescribeDBInstancesCommand({
    DBInstanceIdentifier: "securecart-orders-db-js" }))).DBInstances[0];
  expect(restored.DBInstanceStatus === "available", `restored instance ${restored.DBInstanceStatus}`);
  summary.restoredInstance = restored.DBInstanceIdentifier;
});

await step("cloudtrail records the SDK's calls", async () => {
  const trail = client(CloudTrailClient);
  const events = (await trail.send(new LookupEventsCommand({
    LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "CreateBackupVault" }] }))).Events;
  expect(events.length >= 1, "no CreateBackupVault on the trail");
  const record = JSON.parse(events[0].CloudTrailEvent);
  expect(record.userAgent?.includes("aws-sdk-js"), `recorded user agent ${record.userAgent}`);
  const restores = (await trail.send(new LookupEventsCommand({
    LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "RestoreDBInstanceToPointInTime" }] }))).Events;
  expect(restores.length === 1, `${restores.length} point-in-time restores on the trail`);
  return `${events.length + restores.length} events`;
});

console.log(JSON.stringify({ passed: passed.length, failed: null, summary }));
