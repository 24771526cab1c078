"""IAM into the inventory (checks.inventory.iam): roles with their trust policies (IAM is global)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from checks.inventory.iam import IAM, Role
from lab.inventory.convert import by_key, iso, policy_document, tag_dict

if TYPE_CHECKING:
    from lab.inventory.collector import Collector


def collect(c: Collector, region: str) -> IAM:
    iam = c.client("iam", region)
    roles = {}
    for page in iam.get_paginator("list_roles").paginate():
        for role in page.get("Roles", []):
            name = role["RoleName"]
            attached = c.attempt("iam", None, f"role {name}", lambda name=name: [
                p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name).get("AttachedPolicies", [])], [])
            inline = c.attempt("iam", None, f"role {name}", lambda name=name: iam.list_role_policies(
                RoleName=name).get("PolicyNames", []), [])
            roles[name] = Role(name=name, arn=role.get("Arn"), created=iso(role.get("CreateDate")),
                               trust_policy=policy_document(role.get("AssumeRolePolicyDocument")),
                               attached_policies=sorted(attached), inline_policies=sorted(inline),
                               tags=tag_dict(role.get("Tags")))
    return IAM(roles=by_key(roles.items()))
