"""When a Route 53 answer changes for whom: record changes propagating to the name servers, and clients that keep
what they resolved for the record's TTL. Pure functions of the records, the changes and time; no sandbox.

- A change (ChangeResourceRecordSets, CreateHostedZone, DeleteHostedZone) is PENDING until it has propagated to
  every Route 53 name server, then INSYNC ("Changes generally propagate to all Route 53 name servers within 60
  seconds", Route 53 API Reference: ChangeResourceRecordSets; the duration model's `route53.propagation`). The
  sandbox's name servers answer with a record change once it is INSYNC: before that the records are as they
  were (`records_as_of`).
- A client (a resolver's cache) that resolved a name keeps the answer for the TTL of the record answered ("the
  amount of time, in seconds, that you want DNS recursive resolvers to cache information about this record",
  API Reference: ResourceRecordSet.TTL). The sandbox's client is the one that resolved the name just before the
  answer last changed, the worst case a failover's RTO must allow for: it sees the new answer that record's TTL
  later (`client_answer`). So a failover reaches clients after detection (RequestInterval x FailureThreshold)
  plus the TTL. Negative answers (no such name or record) are not kept: a new record is seen once it is INSYNC.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lab.services.route53.dns import Answer

ALIAS_TTL = 60  # an alias to an AWS endpoint: the endpoint's own TTL (60 s for load balancers), an estimate here
EPSILON = 1e-3  # "just before" an instant
_CHANGE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

RecordKey = tuple[str, str, str]  # (name, type, set identifier)


@dataclass
class Change:
    """One change batch, and what it replaced."""

    id: str  # as Route 53 names it: C + 13 upper-case letters and digits
    zone_id: str
    zone_name: str  # normalised (dns_name)
    submitted_at: float
    insync_at: float
    comment: str | None = None
    keys: list[RecordKey] = field(default_factory=list)  # the record sets it touched
    before: list[dict[str, Any]] = field(default_factory=list)  # those record sets as they were

    def status(self, moment: float) -> str:
        return "INSYNC" if moment >= self.insync_at else "PENDING"

    def info(self, moment: float) -> dict[str, Any]:
        """The ChangeInfo element of the answers that name it."""
        found: dict[str, Any] = {"Id": f"/change/{self.id}", "Status": self.status(moment),
                                 "SubmittedAt": self.submitted_at}
        if self.comment:
            found["Comment"] = self.comment
        return found


def change_id(seed: int, number: int) -> str:
    """A change's id, a function of the sandbox's seed and how many changes came before (a replay repeats it)."""
    digest = hashlib.blake2b(f"{seed}|change|{number}".encode(), digest_size=16).digest()
    return "C" + "".join(_CHANGE_ALPHABET[byte % len(_CHANGE_ALPHABET)] for byte in digest[:13])


def record_key(record: Mapping[str, Any]) -> RecordKey:
    from lab.services.route53.dns import dns_name

    return dns_name(str(record.get("Name", ""))), str(record.get("Type", "")).upper(), str(
        record.get("SetIdentifier") or "")


def records_as_of(zones: Mapping[str, list[dict[str, Any]]], changes: Iterable[Change],
                  moment: float) -> dict[str, list[dict[str, Any]]]:
    """The record sets of each zone (zone name -> its records, as they are now) as the name servers held them at
    `moment`: every change not INSYNC by then undone, the newest first."""
    pending = sorted((change for change in changes if change.insync_at > moment),
                     key=lambda change: change.submitted_at, reverse=True)
    if not pending:
        return dict(zones)
    found = {zone: list(records) for zone, records in zones.items()}
    for change in pending:
        touched = set(change.keys)
        records = [record for record in found.get(change.zone_name, []) if record_key(record) not in touched]
        found[change.zone_name] = records + [dict(record) for record in change.before]
    return found


def answer_ttl(answer: Answer) -> float:
    """How long a client keeps `answer`: the TTL of the record answered (the shortest of several), an alias its
    target's; 0 for an answer without data."""
    if answer.code != "NOERROR" or not answer.data:
        return 0.0
    if answer.ttl is not None:
        return float(answer.ttl)
    return float(ALIAS_TTL)


@dataclass
class ClientView:
    answer: Answer  # what the client uses now
    current: Answer  # what Route 53's name servers answer now
    resolved_at: float | None = None  # when the client's cached answer was last current at the name servers
    kept_until: float | None = None  # when the client asks again (None: it has the current answer)


def client_answer(resolve_at: Callable[[float], Answer], moments: Sequence[float], now: float) -> ClientView:
    """What a client uses at `now`: `resolve_at(t)` is the name servers' answer at t; `moments` are the instants
    at which it may have changed (health checks flipping, changes becoming INSYNC). The answer of the latest
    change that the client has had its TTL to see; before the first such one, the answer before the changes."""
    current = resolve_at(now)
    changes: list[tuple[float, Answer, Answer]] = []  # (instant, answer before, answer from then on), newest first
    for moment in sorted({m for m in moments if m <= now}, reverse=True):
        before, after = resolve_at(moment - EPSILON), resolve_at(moment)
        if (before.code, before.data) != (after.code, after.data):
            changes.append((moment, before, after))
    for index, (moment, before, after) in enumerate(changes):
        if moment + answer_ttl(before) <= now:
            if index == 0:
                return ClientView(current, current)
            newer_moment, newer_before, _ = changes[index - 1]
            return ClientView(after, current, resolved_at=moment,
                              kept_until=newer_moment + answer_ttl(newer_before))
    if not changes:
        return ClientView(current, current)
    moment, before, _ = changes[-1]
    return ClientView(before, current, resolved_at=moment - EPSILON, kept_until=moment + answer_ttl(before))
