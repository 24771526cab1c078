"""S3 Replication metrics: what S3 publishes to CloudWatch every minute for each replication rule with metrics
enabled (Replication Time Control turns them on), in namespace AWS/S3 with the dimensions SourceBucket,
DestinationBucket and RuleId (S3 User Guide: Using S3 Replication metrics; Metrics and dimensions):

  - ReplicationLatency (Seconds, the maximum): how far the destination is behind the source -- the longest lag
    of the work done in the minute, or the age of the oldest work still waiting at its end;
  - BytesPendingReplication (Bytes) and OperationsPendingReplication (Count), the maximum in the minute;
  - OperationsFailedReplication (Count, the sum): operations that failed in the minute.

The first three are published in the Region of the destination bucket, the failures in the Region of the source
bucket (same page). With RTC, "CloudWatch begins reporting replication metrics 15 minutes after you enable S3
RTC" (`s3.rtc.metrics_delay` of the duration model). Pure bookkeeping, no sandbox.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lab.services.s3.replication import ReplicationConfig

NAMESPACE = "AWS/S3"
METRICS_PERIOD = 60.0  # minute by minute


@dataclass(slots=True)
class RuleMetrics:
    """One metrics-enabled rule's figures for the minute being measured."""

    since: float  # minutes that begin before this are not published
    pending_ops: int = 0
    pending_bytes: int = 0
    max_ops: int = 0
    max_bytes: int = 0
    max_latency: float = 0.0
    failed: int = 0
    rtc: bool = False

    def pend(self, sign: int, size: int) -> None:
        """Work for the rule starts waiting (+1) or is done (-1)."""
        self.pending_ops = max(0, self.pending_ops + sign)
        self.pending_bytes = max(0, self.pending_bytes + sign * size)
        self.max_ops = max(self.max_ops, self.pending_ops)
        self.max_bytes = max(self.max_bytes, self.pending_bytes)

    def next_minute(self) -> None:
        self.max_ops, self.max_bytes = self.pending_ops, self.pending_bytes
        self.max_latency = 0.0
        self.failed = 0


def sync_rule_metrics(metrics: MutableMapping[tuple[str, str, str], RuleMetrics], bucket: str,
                      config: ReplicationConfig | None, rtc_delay: float, now: float) -> None:
    """Make `metrics` hold one entry per enabled, metrics-enabled rule of `bucket`'s configuration (None: none):
    an unchanged rule keeps its figures; a rule that newly has RTC reports `rtc_delay` seconds from now."""
    wanted: dict[tuple[str, str, str], bool] = {}
    for rule in config.rules if config is not None else ():
        if rule.enabled and rule.metrics:
            wanted[(bucket, rule.id, rule.destination_bucket)] = rule.rtc_minutes is not None
    for name in [name for name in metrics if name[0] == bucket and name not in wanted]:
        del metrics[name]
    for name, rtc in wanted.items():
        found = metrics.get(name)
        if found is None or found.rtc != rtc:
            since = now + rtc_delay if rtc else now
            kept = found if found is not None else RuleMetrics(since)
            kept.since, kept.rtc = since, rtc
            metrics[name] = kept


def next_minute(moment: float) -> float:
    """The end of the minute `moment` is in (the next whole minute after it)."""
    return (math.floor(moment / METRICS_PERIOD) + 1) * METRICS_PERIOD


def minute_datums(name: tuple[str, str, str], figures: RuleMetrics, end: float, oldest_pending: float | None,
                  source_region: str, destination_region: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(region, PutMetricData datum) for the minute ending at `end` of one rule's figures, `name` being (source
    bucket, rule id, destination bucket); nothing before the rule reports. Timestamps are epoch seconds, the
    minute's start."""
    start = end - METRICS_PERIOD
    if start < figures.since:
        return
    latency = figures.max_latency
    if oldest_pending is not None:
        latency = max(latency, end - oldest_pending)
    source, rule_id, destination = name
    where = [{"Name": "SourceBucket", "Value": source}, {"Name": "DestinationBucket", "Value": destination},
             {"Name": "RuleId", "Value": rule_id}]
    for region, metric, value, unit in (
            (destination_region, "ReplicationLatency", round(latency, 3), "Seconds"),
            (destination_region, "BytesPendingReplication", figures.max_bytes, "Bytes"),
            (destination_region, "OperationsPendingReplication", figures.max_ops, "Count"),
            (source_region, "OperationsFailedReplication", figures.failed, "Count")):
        yield region, {"MetricName": metric, "Dimensions": where, "Timestamp": start, "Value": float(value),
                       "Unit": unit}
