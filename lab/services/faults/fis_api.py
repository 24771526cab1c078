"""The `fis` API (rest-json), owned by the faults engine: request and response shapes of botocore's fis model.

moto's FIS only stores templates and moves experiments through states by itself; here experiments act on
the sandbox in sim time (see _fis_experiments).
"""

from __future__ import annotations

import copy
import json
import random
import re
import string
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from lab import config
from lab.gateway.codec.errors import aws_error, not_implemented
from lab.kernel.context import RequestContext, Response
from lab.services.faults import fis_experiments as experiments
from lab.services.faults.fis_actions import ACTIONS, validate_action
from lab.services.faults.fis_targets import RESOURCE_TYPES, validate_target

if TYPE_CHECKING:
    from lab.services.faults.engine import Faults
    from lab.services.faults.model import FisExperiment, FisState

_ID_ALPHABET = string.ascii_letters + string.digits
_TEMPLATE_PATH = re.compile(r"^/experimentTemplates/([^/]+)$")
_EXPERIMENT_PATH = re.compile(r"^/experiments/([^/]+)(/resolvedTargets)?$")
_ACTION_PATH = re.compile(r"^/actions/(.+)$")
_RESOURCE_TYPE_PATH = re.compile(r"^/targetResourceTypes/(.+)$")
_TAGS_PATH = re.compile(r"^/tags/(.+)$")
_STOP_SOURCES = ("none", "aws:cloudwatch:alarm")


class FisError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _validation(message: str) -> FisError:
    return FisError(400, "ValidationException", message)


def _not_found(message: str) -> FisError:
    return FisError(404, "ResourceNotFoundException", message)


class FisApi:
    def __init__(self, engine: Faults) -> None:
        self.engine = engine

    @property
    def fis(self) -> FisState:
        return self.engine.state.fis

    def serve(self, ctx: RequestContext) -> None:
        identity = ctx.identity
        assert identity is not None and identity.operation is not None
        handler: Callable[[RequestContext], Any] | None = getattr(self, "op_" + identity.operation, None)
        if handler is None:
            error = not_implemented(identity, detail="the sandbox's FIS runs templates and experiments only",
                                    request_id=ctx.request_id)
            ctx.response = Response(error.status, list(error.headers), error.body)
            return
        try:
            body = handler(ctx)
        except FisError as exc:
            error = aws_error(identity, exc.status, exc.code, exc.message, ctx.request_id)
            ctx.response = Response(error.status, list(error.headers), error.body)
            return
        ctx.respond(200, json.dumps(body), content_type="application/json")

    # -- helpers --------------------------------------------------------------------------------------

    def _json(self, ctx: RequestContext) -> dict[str, Any]:
        if not ctx.body:
            return {}
        try:
            value = json.loads(ctx.body)
        except json.JSONDecodeError as exc:
            raise _validation(f"the request body is not JSON: {exc}") from exc
        if not isinstance(value, dict):
            raise _validation("the request body must be a JSON object")
        return value

    def _path_id(self, ctx: RequestContext, pattern: re.Pattern[str]) -> str:
        match = pattern.match(ctx.path)
        if not match:
            raise _validation(f"no resource id in {ctx.path}")
        return unquote(match.group(1))

    def _new_id(self, prefix: str) -> str:
        self.fis.created += 1
        rng = random.Random(f"{self.engine.sandbox.lab.seed}:fis:{self.fis.created}")
        return prefix + "".join(rng.choice(_ID_ALPHABET) for _ in range(14))

    def _region(self, ctx: RequestContext) -> str:
        assert ctx.identity is not None
        return ctx.identity.region

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

    def op_CreateExperimentTemplate(self, ctx: RequestContext) -> dict[str, Any]:
        request = self._json(ctx)
        region = self._region(ctx)
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

    def op_GetExperimentTemplate(self, ctx: RequestContext) -> dict[str, Any]:
        template = self._template(self._path_id(ctx, _TEMPLATE_PATH), self._region(ctx))
        return {"experimentTemplate": self._template_out(template)}

    def op_DeleteExperimentTemplate(self, ctx: RequestContext) -> dict[str, Any]:
        template = self._template(self._path_id(ctx, _TEMPLATE_PATH), self._region(ctx))
        body = self._template_out(template)
        del self.fis.templates[template["id"]]
        self.fis.tags.pop(template["arn"], None)
        return {"experimentTemplate": body}

    def op_ListExperimentTemplates(self, ctx: RequestContext) -> dict[str, Any]:
        region = self._region(ctx)
        summaries = [{key: self._template_out(t)[key] for key in
                      ("id", "arn", "description", "creationTime", "lastUpdateTime", "tags")}
                     for t in self.fis.templates.values() if t["region"] == region]
        page, token = _page(ctx, summaries)
        return {"experimentTemplates": page, **({"nextToken": token} if token else {})}

    # -- experiments ----------------------------------------------------------------------------------

    def op_StartExperiment(self, ctx: RequestContext) -> dict[str, Any]:
        request = self._json(ctx)
        region = self._region(ctx)
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

    def op_GetExperiment(self, ctx: RequestContext) -> dict[str, Any]:
        experiment = self._experiment(self._path_id(ctx, _EXPERIMENT_PATH), self._region(ctx))
        return {"experiment": experiments.to_dict(experiment)}

    def op_StopExperiment(self, ctx: RequestContext) -> dict[str, Any]:
        experiment = self._experiment(self._path_id(ctx, _EXPERIMENT_PATH), self._region(ctx))
        experiments.stop(self.engine, experiment)
        return {"experiment": experiments.to_dict(experiment)}

    def op_ListExperiments(self, ctx: RequestContext) -> dict[str, Any]:
        region = self._region(ctx)
        wanted = ctx.query_params().get("experimentTemplateId", [None])[0]
        found = [experiments.to_dict(e, summary=True) for e in self.fis.experiments.values()
                 if e.region == region and (wanted is None or e.template_id == wanted)]
        page, token = _page(ctx, found)
        return {"experiments": page, **({"nextToken": token} if token else {})}

    def op_ListExperimentResolvedTargets(self, ctx: RequestContext) -> dict[str, Any]:
        experiment = self._experiment(self._path_id(ctx, _EXPERIMENT_PATH), self._region(ctx))
        wanted = ctx.query_params().get("targetName", [None])[0]
        resolved = [{"resourceType": experiment.targets[name]["resourceType"], "targetName": name,
                     "targetInformation": {"arn": arn}}
                    for name, arns in sorted(experiment.resolved.items()) if wanted in (None, name) for arn in arns]
        page, token = _page(ctx, resolved)
        return {"resolvedTargets": page, **({"nextToken": token} if token else {})}

    # -- the catalog ----------------------------------------------------------------------------------

    def op_ListActions(self, ctx: RequestContext) -> dict[str, Any]:
        page, token = _page(ctx, [spec.to_summary(self._region(ctx)) for _, spec in sorted(ACTIONS.items())])
        return {"actions": page, **({"nextToken": token} if token else {})}

    def op_GetAction(self, ctx: RequestContext) -> dict[str, Any]:
        action_id = self._path_id(ctx, _ACTION_PATH)
        if action_id not in ACTIONS:
            raise _not_found(f"Action {action_id} not found.")
        return {"action": ACTIONS[action_id].to_dict(self._region(ctx))}

    def op_ListTargetResourceTypes(self, ctx: RequestContext) -> dict[str, Any]:
        page, token = _page(ctx, [{"resourceType": rt.id, "description": rt.description}
                                  for _, rt in sorted(RESOURCE_TYPES.items())])
        return {"targetResourceTypes": page, **({"nextToken": token} if token else {})}

    def op_GetTargetResourceType(self, ctx: RequestContext) -> dict[str, Any]:
        type_id = self._path_id(ctx, _RESOURCE_TYPE_PATH)
        if type_id not in RESOURCE_TYPES:
            raise _not_found(f"Target resource type {type_id} not found.")
        spec = RESOURCE_TYPES[type_id]
        return {"targetResourceType": {
            "resourceType": spec.id, "description": spec.description,
            "parameters": {name: {"description": text, "required": False} for name, text in spec.parameters.items()}}}

    # -- tags -----------------------------------------------------------------------------------------

    def _tagged(self, ctx: RequestContext) -> str:
        arn = self._path_id(ctx, _TAGS_PATH)
        known = {t["arn"] for t in self.fis.templates.values()} | {
            experiments.to_dict(e, summary=True)["arn"] for e in self.fis.experiments.values()}
        if arn not in known:
            raise _not_found(f"Resource {arn} not found.")
        return arn

    def op_TagResource(self, ctx: RequestContext) -> dict[str, Any]:
        arn = self._tagged(ctx)
        self.fis.tags.setdefault(arn, {}).update(self._json(ctx).get("tags") or {})
        self._sync_experiment_tags(arn)
        return {}

    def op_UntagResource(self, ctx: RequestContext) -> dict[str, Any]:
        arn = self._tagged(ctx)
        for key in ctx.query_params().get("tagKeys", []):
            self.fis.tags.get(arn, {}).pop(key, None)
        self._sync_experiment_tags(arn)
        return {}

    def op_ListTagsForResource(self, ctx: RequestContext) -> dict[str, Any]:
        arn = self._tagged(ctx)
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


def _page(ctx: RequestContext, items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str | None]:
    params = ctx.query_params()
    try:
        limit = int(params.get("maxResults", ["100"])[0])
        start = int(params.get("nextToken", ["0"])[0] or 0)
    except ValueError as exc:
        raise _validation(f"bad maxResults or nextToken: {exc}") from exc
    if not 1 <= limit <= 100:
        raise _validation(f"maxResults must be from 1 to 100, not {limit}")
    end = start + limit
    return items[start:end], (str(end) if end < len(items) else None)
