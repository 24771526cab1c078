"""The service APIs of the faults package: AWS FIS (owned by the lab: moto's FIS only stores templates and
moves experiments through states by itself; here experiments act on the sandbox in sim time, see
fis_experiments), and EC2 DescribeVolumeStatus (moto lacks it), answered from the volumes the backend holds and
the faults engine's paused volumes."""

from __future__ import annotations

import copy
import random
import string
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lab import config
from lab.kernel.api import Call, ServiceApi
from lab.kernel.engine import VolumeInitialization
from lab.kernel.errors import AwsError
from lab.services.faults import fis_experiments as experiments
from lab.services.faults.engine import Faults
from lab.services.faults.fis_actions import ACTIONS, validate_action
from lab.services.faults.fis_targets import RESOURCE_TYPES, validate_target

if TYPE_CHECKING:
    from lab.kernel.port import Sandbox
    from lab.services.faults.model import FisExperiment, FisState

_ID_ALPHABET = string.ascii_letters + string.digits
_STOP_SOURCES = ("none", "aws:cloudwatch:alarm")


def _validation(message: str) -> AwsError:
    return AwsError("ValidationException", message, 400)


def _not_found(message: str) -> AwsError:
    return AwsError("ResourceNotFoundException", message, 404)


class FisApi(ServiceApi):
    service = "fis"
    owns_service = True
    implemented_by = "the sandbox's FIS runs templates and experiments only"
    service_principal = Faults.service_principal

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        engine = sandbox.engines.find(Faults)
        assert engine is not None, "the FIS API needs the faults engine"
        self.engine = engine

    @property
    def fis(self) -> FisState:
        return self.engine.state.fis

    # -- helpers --------------------------------------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        self.fis.created += 1
        rng = random.Random(f"{self.engine.sandbox.lab.seed}:fis:{self.fis.created}")
        return prefix + "".join(rng.choice(_ID_ALPHABET) for _ in range(14))

    def _template(self, template_id: str, region: str) -> dict[str, Any]:
        template = self.fis.templates.get(template_id)
        if template is None or template["region"] != region:
            raise _not_found(f"Experiment template {template_id} not found.")
        return template

    def _experiment(self, experiment_id: str, region: str) -> FisExperiment:
        experiment = self.fis.experiments.get(experiment_id)
        if experiment is None or experiment.region != region:
            raise _not_found(f"Experiment {experiment_id} not found.")
        return experiment

    def _template_out(self, template: dict[str, Any]) -> dict[str, Any]:
        body = {key: copy.deepcopy(value) for key, value in template.items() if key not in ("region", "clientToken")}
        body["tags"] = dict(self.fis.tags.get(template["arn"], {}))
        return body

    # -- templates ------------------------------------------------------------------------------------

    def op_CreateExperimentTemplate(self, call: Call) -> dict[str, Any]:
        request = call.params
        region = call.region
        token = request.get("clientToken")
        if token and f"template:{token}" in self.fis.client_tokens:
            existing = self.fis.templates.get(self.fis.client_tokens[f"template:{token}"])
            if existing is not None:
                return {"experimentTemplate": self._template_out(existing)}
        for field in ("description", "stopConditions", "actions", "roleArn"):
            if field not in request:
                raise _validation(f"{field} is required")
        targets = request.get("targets") or {}
        actions = request.get("actions") or {}
        if not actions:
            raise _validation("An experiment template needs at least one action.")
        try:
            for name, target in targets.items():
                validate_target(name, target)
            for name, action in actions.items():
                validate_action(name, action, targets)
            _check_start_after(actions)
            _check_stop_conditions(request["stopConditions"])
        except ValueError as exc:
            raise _validation(str(exc)) from exc
        used = {target for action in actions.values() for target in (action.get("targets") or {}).values()}
        unused = sorted(set(targets) - used)
        if unused:
            raise _validation(f"Target {unused[0]} is not referenced by any action.")
        template_id = self._new_id("EXT")
        now = self.engine.now()
        template = {
            "id": template_id,
            "arn": f"arn:aws:fis:{region}:{config.ACCOUNT_ID}:experiment-template/{template_id}",
            "description": request["description"],
            "targets": {name: dict(target) for name, target in targets.items()},
            "actions": {name: {**action, "parameters": action.get("parameters") or {},
                               "targets": action.get("targets") or {}, "startAfter": action.get("startAfter") or []}
                        for name, action in actions.items()},
            "stopConditions": request["stopConditions"],
            "creationTime": now,
            "lastUpdateTime": now,
            "roleArn": request["roleArn"],
            "experimentOptions": {"accountTargeting": "single-account", "emptyTargetResolutionMode": "fail",
                                  **(request.get("experimentOptions") or {})},
            "targetAccountConfigurationsCount": 0,
            "region": region,
        }
        if request.get("logConfiguration"):
            template["logConfiguration"] = request["logConfiguration"]
        self.fis.templates[template_id] = template
        self.fis.tags[template["arn"]] = dict(request.get("tags") or {})
        if token:
            self.fis.client_tokens[f"template:{token}"] = template_id
        self.engine.emit("ExperimentTemplateCreated", kind="fault", region=region, resource=template_id)
        return {"experimentTemplate": self._template_out(template)}

    def op_GetExperimentTemplate(self, call: Call) -> dict[str, Any]:
        template = self._template(call.params["id"], call.region)
        return {"experimentTemplate": self._template_out(template)}

    def op_DeleteExperimentTemplate(self, call: Call) -> dict[str, Any]:
        template = self._template(call.params["id"], call.region)
        body = self._template_out(template)
        del self.fis.templates[template["id"]]
        self.fis.tags.pop(template["arn"], None)
        return {"experimentTemplate": body}

    def op_ListExperimentTemplates(self, call: Call) -> dict[str, Any]:
        region = call.region
        summaries = [{key: self._template_out(t)[key] for key in
                      ("id", "arn", "description", "creationTime", "lastUpdateTime", "tags")}
                     for t in self.fis.templates.values() if t["region"] == region]
        page, token = _page(call.params, summaries)
        return {"experimentTemplates": page, **({"nextToken": token} if token else {})}

    # -- experiments ----------------------------------------------------------------------------------

    def op_StartExperiment(self, call: Call) -> dict[str, Any]:
        request = call.params
        region = call.region
        token = request.get("clientToken")
        if token and f"experiment:{token}" in self.fis.client_tokens:
            existing = self.fis.experiments.get(self.fis.client_tokens[f"experiment:{token}"])
            if existing is not None:
                return {"experiment": experiments.to_dict(existing)}
        if not request.get("experimentTemplateId"):
            raise _validation("experimentTemplateId is required")
        template = self._template(request["experimentTemplateId"], region)
        mode = (request.get("experimentOptions") or {}).get("actionsMode", "run-all")
        if mode not in ("run-all", "skip-all"):
            raise _validation(f"actionsMode must be run-all or skip-all, not {mode!r}")
        experiment = experiments.start(self.engine, template, self._new_id("EXP"), region,
                                       dict(request.get("tags") or {}), mode)
        self.fis.experiments[experiment.id] = experiment
        if token:
            self.fis.client_tokens[f"experiment:{token}"] = experiment.id
        return {"experiment": experiments.to_dict(experiment)}

    def op_GetExperiment(self, call: Call) -> dict[str, Any]:
        experiment = self._experiment(call.params.get("id") or call.params["experimentId"], call.region)
        return {"experiment": experiments.to_dict(experiment)}

    def op_StopExperiment(self, call: Call) -> dict[str, Any]:
        experiment = self._experiment(call.params.get("id") or call.params["experimentId"], call.region)
        experiments.stop(self.engine, experiment)
        return {"experiment": experiments.to_dict(experiment)}

    def op_ListExperiments(self, call: Call) -> dict[str, Any]:
        region = call.region
        wanted = call.params.get("experimentTemplateId")
        found = [experiments.to_dict(e, summary=True) for e in self.fis.experiments.values()
                 if e.region == region and (wanted is None or e.template_id == wanted)]
        page, token = _page(call.params, found)
        return {"experiments": page, **({"nextToken": token} if token else {})}

    def op_ListExperimentResolvedTargets(self, call: Call) -> dict[str, Any]:
        experiment = self._experiment(call.params.get("id") or call.params["experimentId"], call.region)
        wanted = call.params.get("targetName")
        resolved = [{"resourceType": experiment.targets[name]["resourceType"], "targetName": name,
                     "targetInformation": {"arn": arn}}
                    for name, arns in sorted(experiment.resolved.items()) if wanted in (None, name) for arn in arns]
        page, token = _page(call.params, resolved)
        return {"resolvedTargets": page, **({"nextToken": token} if token else {})}

    # -- the catalog ----------------------------------------------------------------------------------

    def op_ListActions(self, call: Call) -> dict[str, Any]:
        page, token = _page(call.params, [spec.to_summary(call.region) for _, spec in sorted(ACTIONS.items())])
        return {"actions": page, **({"nextToken": token} if token else {})}

    def op_GetAction(self, call: Call) -> dict[str, Any]:
        action_id = call.params["id"]
        if action_id not in ACTIONS:
            raise _not_found(f"Action {action_id} not found.")
        return {"action": ACTIONS[action_id].to_dict(call.region)}

    def op_ListTargetResourceTypes(self, call: Call) -> dict[str, Any]:
        page, token = _page(call.params, [{"resourceType": rt.id, "description": rt.description}
                                  for _, rt in sorted(RESOURCE_TYPES.items())])
        return {"targetResourceTypes": page, **({"nextToken": token} if token else {})}

    def op_GetTargetResourceType(self, call: Call) -> dict[str, Any]:
        type_id = call.params["resourceType"]
        if type_id not in RESOURCE_TYPES:
            raise _not_found(f"Target resource type {type_id} not found.")
        spec = RESOURCE_TYPES[type_id]
        return {"targetResourceType": {
            "resourceType": spec.id, "description": spec.description,
            "parameters": {name: {"description": text, "required": False} for name, text in spec.parameters.items()}}}

    # -- tags -----------------------------------------------------------------------------------------

    def _tagged(self, call: Call) -> str:
        arn = call.params["resourceArn"]
        known = {t["arn"] for t in self.fis.templates.values()} | {
            experiments.to_dict(e, summary=True)["arn"] for e in self.fis.experiments.values()}
        if arn not in known:
            raise _not_found(f"Resource {arn} not found.")
        return arn

    def op_TagResource(self, call: Call) -> dict[str, Any]:
        arn = self._tagged(call)
        self.fis.tags.setdefault(arn, {}).update(call.params.get("tags") or {})
        self._sync_experiment_tags(arn)
        return {}

    def op_UntagResource(self, call: Call) -> dict[str, Any]:
        arn = self._tagged(call)
        for key in call.params.get("tagKeys") or []:
            self.fis.tags.get(arn, {}).pop(key, None)
        self._sync_experiment_tags(arn)
        return {}

    def op_ListTagsForResource(self, call: Call) -> dict[str, Any]:
        arn = self._tagged(call)
        return {"tags": dict(self._tags_of(arn))}

    def _tags_of(self, arn: str) -> dict[str, str]:
        for experiment in self.fis.experiments.values():
            if experiments.to_dict(experiment, summary=True)["arn"] == arn:
                return experiment.tags
        return self.fis.tags.get(arn, {})

    def _sync_experiment_tags(self, arn: str) -> None:
        for experiment in self.fis.experiments.values():
            if experiments.to_dict(experiment, summary=True)["arn"] == arn:
                experiment.tags = dict(self.fis.tags.get(arn, {}))


def _check_start_after(actions: dict[str, dict[str, Any]]) -> None:
    for name, action in actions.items():
        for before in action.get("startAfter") or []:
            if before not in actions:
                raise ValueError(f"Action {name}: startAfter names {before!r}, which is not an action of the template")
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            raise ValueError(f"Action {name}: startAfter makes a cycle")
        visiting.add(name)
        for before in actions[name].get("startAfter") or []:
            visit(before)
        visiting.discard(name)
        done.add(name)

    for name in actions:
        visit(name)


def _check_stop_conditions(conditions: list[dict[str, Any]]) -> None:
    if not conditions:
        raise ValueError('stopConditions needs at least one entry ({"source": "none"} for none)')
    for condition in conditions:
        source = condition.get("source")
        if source not in _STOP_SOURCES:
            raise ValueError(f"stop condition source must be one of {', '.join(_STOP_SOURCES)}, not {source!r}")
        if source == "aws:cloudwatch:alarm" and not str(condition.get("value", "")).startswith("arn:aws:cloudwatch:"):
            raise ValueError("an aws:cloudwatch:alarm stop condition needs the alarm's ARN as its value")


def _page(params: dict[str, Any], items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str | None]:
    limit = params.get("maxResults", 100)
    try:
        start = int(params.get("nextToken") or 0)
    except ValueError as exc:
        raise _validation(f"bad nextToken: {exc}") from exc
    if start < 0:
        raise _validation(f"bad nextToken: {start}")
    if not 1 <= limit <= 100:
        raise _validation(f"maxResults must be from 1 to 100, not {limit}")
    end = start + limit
    return items[start:end], (str(end) if end < len(items) else None)


class VolumeStatusApi(ServiceApi):
    """EC2 DescribeVolumeStatus (moto lacks it): a volume whose I/O is paused (aws:ebs:pause-volume-io, an AZ
    power interruption) reports "impaired" with its io-enabled check failed, as AWS does."""

    service = "ec2"
    service_principal = Faults.service_principal

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        engine = sandbox.engines.find(Faults)
        assert engine is not None, "DescribeVolumeStatus needs the faults engine"
        self.engine = engine

    def op_DescribeVolumeStatus(self, call: Call) -> dict[str, Any]:
        params = call.params
        volume_ids = list(params.get("VolumeIds") or [])
        filters = {f.get("Name", ""): set(f.get("Values") or []) for f in params.get("Filters") or []}
        ec2 = self.sandbox.client("ec2", call.region)
        kwargs: dict[str, Any] = {"VolumeIds": volume_ids} if volume_ids else {}
        try:
            volumes = [v for page in ec2.get_paginator("describe_volumes").paginate(**kwargs) for v in page["Volumes"]]
        except ClientError as exc:  # an unknown volume id: EC2's own error, as DescribeVolumeStatus answers it
            raise AwsError(exc.response["Error"]["Code"], exc.response["Error"].get("Message", ""),
                           exc.response["ResponseMetadata"]["HTTPStatusCode"]) from exc
        paused = self.engine.state.volumes_paused
        statuses = []
        for volume in sorted(volumes, key=lambda v: v["VolumeId"]):
            impaired = volume["VolumeId"] in paused
            status = "impaired" if impaired else "ok"
            io_enabled = "failed" if impaired else "passed"
            if not _passes(filters, volume, status, io_enabled):
                continue
            details = [{"Name": "io-enabled", "Status": io_enabled},
                       {"Name": "io-performance", "Status": "not-applicable"}]
            item = {"VolumeId": volume["VolumeId"], "AvailabilityZone": volume["AvailabilityZone"],
                    "VolumeStatus": {"Status": status, "Details": details}, "Events": [], "Actions": []}
            for source in self.sandbox.engines.all(VolumeInitialization):  # a volume restored from a snapshot
                initialization = source.volume_initialization(call.region, volume["VolumeId"])
                if initialization is not None:
                    item["InitializationStatusDetails"] = initialization
                    details.append({"Name": "initialization-state", "Status":
                                    "completed" if initialization.get("Progress") == 100 else "initializing"})
            statuses.append(item)
        return {"VolumeStatuses": statuses}


def _passes(filters: dict[str, set[str]], volume: dict[str, Any], status: str, io_enabled: str) -> bool:
    fields = {"volume-id": volume["VolumeId"], "availability-zone": volume["AvailabilityZone"],
              "volume-status.status": status, "volume-status.details-name": "io-enabled",
              "volume-status.details-status": io_enabled}
    return all(fields.get(name) in values for name, values in filters.items())
