"""Which AWS Backup plans protect a resource, and whether a plan's rule keeps what a check asks.

Selection semantics follow AWS Backup: a resource is selected when it matches one of `Resources` (ARN
patterns with '*') or one of `ListOfTags` (ORed), every `Conditions` entry holds (ANDed), and it matches
none of `NotResources`. A plan only protects resources in its own region. An EC2 instance's backup
includes its attached volumes, so selecting the instance covers them.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from checks.inventory.backup import Plan, Rule, Selection
from checks.schedule import max_interval_seconds
from checks.view import InventoryView, arn_matches, arn_region, trusted_services

BACKUP_PRINCIPAL = "backup.amazonaws.com"


@dataclass(frozen=True)
class Protectable:
    """A resource AWS Backup can protect, as a selection sees it."""

    arn: str
    region: str
    tags: Mapping[str, str]
    via: tuple[tuple[str, Mapping[str, str]], ...] = ()  # (arn, tags) of what else backs it up (its instance)

    def identities(self) -> Iterator[tuple[str, Mapping[str, str]]]:
        yield self.arn, self.tags
        yield from self.via


def _tag_key(key: str) -> str:
    return key.removeprefix("aws:ResourceTag/")


def _condition_holds(kind: str, key: str, value: str, tags: Mapping[str, str]) -> bool:
    actual = tags.get(_tag_key(key))
    if kind == "StringEquals":
        return actual == value
    if kind == "StringNotEquals":
        return actual != value
    if kind == "StringLike":
        return actual is not None and fnmatch.fnmatchcase(actual, value)
    if kind == "StringNotLike":
        return actual is None or not fnmatch.fnmatchcase(actual, value)
    return False


def selection_verdict(selection: Selection, arn: str, tags: Mapping[str, str]) -> tuple[str, str]:
    """("selected" | "not_chosen" | "condition" | "excluded", what decided it): whether the selection selects
    the resource, and if not, at which step it fell out -- never chosen by Resources or ListOfTags, chosen
    but failing a Conditions entry, or chosen and then excluded by a NotResources pattern."""
    by_arn = next((pattern for pattern in selection.resources or () if arn_matches(pattern, arn)), None)
    by_tag = next((f"tag {tag.key}={tag.value}" for tag in selection.list_of_tags or ()
                   if tags.get(_tag_key(tag.key or "")) == tag.value), None)
    if by_arn is None and by_tag is None:
        return "not_chosen", ""
    for kind, entries in (selection.conditions or {}).items():
        for entry in entries:
            if not _condition_holds(kind, entry.key or "", entry.value or "", tags):
                return "condition", f"{kind} {entry.key}={entry.value}"
    excluded = next((pattern for pattern in selection.not_resources or () if arn_matches(pattern, arn)), None)
    if excluded is not None:
        return "excluded", excluded
    return "selected", f"Resources {by_arn}" if by_arn is not None else str(by_tag)


def selection_matches(selection: Selection, arn: str, tags: Mapping[str, str]) -> bool:
    return selection_verdict(selection, arn, tags)[0] == "selected"


@dataclass
class Coverage:
    """The plans of the resource's region, and the (plan, selection) pairs that select it."""

    plans_in_region: list[Plan] = field(default_factory=list)
    covering: list[tuple[Plan, Selection]] = field(default_factory=list)
    # selections that chose the resource and then dropped it: (plan, selection, "excluded" | "condition", what)
    dropped: list[tuple[Plan, Selection, str, str]] = field(default_factory=list)

    @property
    def plans_without_selection(self) -> list[str]:
        return [plan.name or plan.id for plan in self.plans_in_region if not plan.selections]


def coverage(inv: InventoryView, resource: Protectable) -> Coverage:
    found = Coverage(plans_in_region=list(inv.backup_plans(resource.region)))
    for plan in found.plans_in_region:
        for selection in plan.selections or ():
            verdicts = [selection_verdict(selection, arn, tags) for arn, tags in resource.identities()]
            if any(kind == "selected" for kind, _ in verdicts):
                found.covering.append((plan, selection))
                continue
            dropped = next(((kind, what) for kind, what in verdicts if kind in ("excluded", "condition")), None)
            if dropped is not None:
                found.dropped.append((plan, selection, *dropped))
    return found


def rule_problems(inv: InventoryView, plan: Plan, rule: Rule, *,
                  min_retention_days: int = 0, max_retention_days: int = 0, cross_regions: list[str] | None = None,
                  vault_lock: bool = False, max_interval: float | None = None) -> list[tuple[str, dict[str, Any]]]:
    """What keeps one backup rule from doing what is asked, most basic first: (reason, evidence)."""
    problems: list[tuple[str, dict[str, Any]]] = []
    region = plan.region
    vault_name = rule.target_vault or ""
    vault = inv.vault(vault_name, region)
    evidence = {"plan": plan.name, "rule": rule.name, "vault": vault_name}
    if vault is None:
        problems.append(("vault_missing", evidence))
    if max_interval is not None:
        try:
            interval = max_interval_seconds(rule.schedule)
        except ValueError as exc:
            problems.append(("schedule_invalid", {**evidence, "schedule": rule.schedule, "error": str(exc)}))
        else:
            if interval > max_interval:
                problems.append(("too_infrequent", {**evidence, "schedule": rule.schedule or "(default daily)",
                                                    "interval_seconds": interval}))
    days = rule.lifecycle.delete_after_days
    if min_retention_days and days is not None and days < min_retention_days:
        problems.append(("retention_too_short", {**evidence, "retention_days": days}))
    if max_retention_days and (days is None or days > max_retention_days):
        problems.append(("retention_too_long", {**evidence, "retention_days": days}))
    copy_regions = sorted({arn_region(copy.destination_vault_arn) for copy in rule.copy_actions or ()})
    missing = [r for r in cross_regions or () if r not in copy_regions]
    if missing:
        wanted = " or ".join(missing)
        if copy_regions:
            copies = f"copies only to {', '.join(copy_regions)}"
            fix = (f"Point the rule's CopyActions entry at a vault in {wanted}: DestinationBackupVaultArn "
                   f"arn:aws:backup:{missing[0]}:<account>:backup-vault:<name> (it now names a vault in "
                   f"{', '.join(copy_regions)}).")
        else:
            copies = "makes no copies"
            fix = (f"Add a CopyActions entry to the rule with DestinationBackupVaultArn of a vault in {wanted} "
                   "(aws backup update-backup-plan).")
        problems.append(("no_cross_region_copy", {**evidence, "copy_regions": copy_regions, "missing_regions": missing,
                                                  "copies": copies, "copy_fix": fix}))
    else:
        for copy in rule.copy_actions or ():
            if copy.destination_vault_arn and inv.vault_by_arn(copy.destination_vault_arn) is None \
                    and arn_region(copy.destination_vault_arn) in (cross_regions or ()):
                problems.append(("copy_vault_missing", {**evidence, "copy_vault": copy.destination_vault_arn}))
                break
    if vault_lock and vault is not None and not vault.locked:
        problems.append(("vault_not_locked", evidence))
    return problems


def selection_role_problem(inv: InventoryView, selection: Selection) -> tuple[str, dict[str, Any]] | None:
    """A selection's IAM role must exist and trust AWS Backup, or its backup jobs fail."""
    role_arn = selection.role or ""
    role = inv.role_by_arn(role_arn)
    if role is None:
        return "selection_role_missing", {"selection": selection.name, "role": role_arn}
    if BACKUP_PRINCIPAL not in trusted_services(role):
        return "selection_role_not_trusted", {"selection": selection.name, "role": role_arn,
                                              "trusted": sorted(trusted_services(role))}
    return None
