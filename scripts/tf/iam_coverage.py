"""Every AWS call of the rehearsal allowed by its caller's policy, and every statement used.

Reads what scripts/tf/rehearse.py keeps in its iam-coverage directory: moto's recording of every
request it served (each signed with the access key id of the identity that makes it in the real
flow, scripts/tf/iam_identities.py), the bootstrap's state (the deploy roles' policies and the
boundaries) and every version of dev's state (the function's role, the KMS key policies, the HTTP
APIs' tags). Each call of the plan role, the dev apply role and dev's function role is evaluated
with scripts/tf/iam_policy.py against the policies the modules rendered: the role's inline policy,
AWS's ReadOnlyAccess (as moto ships it) where attached, its permissions boundary, and a KMS key's
own policy. Prints one line per distinct call (identity, action, resource, verdict, the deciding
statements), then the statements no call used. Exit status 1 if any call is not allowed.

    python scripts/tf/iam_coverage.py .rehearsal/iam-coverage
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    from scripts.tf import iam_actions, iam_policy
    from scripts.tf import iam_identities as who
    from scripts.tf.iam_requests import Request, read_recording
except ModuleNotFoundError:  # run as a script: python scripts/tf/iam_coverage.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from scripts.tf import iam_actions, iam_policy
    from scripts.tf import iam_identities as who
    from scripts.tf.iam_requests import Request, read_recording

RECORDING = "recording.jsonl"
BOOTSTRAP_STATE = "bootstrap.tfstate"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
# Calls that are not the real flow's, or that it is known not to allow yet, each with where that is
# decided: (identity, action, resource, reason), wildcards allowed. Reported, never a failure.
EXEMPT: list[tuple[str, str, str, str]] = [
    (
        "function:*",
        "dynamodb:DescribeTable",
        "*",
        "ingest serve, standing in for the function, checks its table at start"
        " (ingest_tools.cli.serve); the Lambda handler never calls it",
    ),
]
# A person's reads of event data: every evaluated identity must be refused each of them.
EVENT_READS = frozenset(
    {
        "dynamodb:BatchGetItem",
        "dynamodb:GetItem",
        "dynamodb:GetRecords",
        "dynamodb:PartiQLSelect",
        "dynamodb:Query",
        "dynamodb:Scan",
    }
)
# Allow statements the rehearsal cannot exercise, by Sid, with the reason; any other statement no
# call used is a candidate for removal.
NOT_EXERCISED = {
    "RetagTaggedHttpApis": "no HTTP API's tags change in the rehearsal",
    "OwnLogGroup": "Lambda's runtime writes the function's logs; the local server prints them",
    "OwnLogs": "Lambda's runtime writes the function's logs; the local server prints them",
    "Configuration": "the rehearsal's sources use no secret or parameter",
    "WebhookSecrets": "the rehearsal's sources use no secret",
    "SourcesParameter": "the rehearsal's sources are inline",
    "Tracing": "tracing is off in dev",
    "PayloadObjects": "moto refuses object requests to the TLS-only payload bucket (it drops the"
    " policy's condition): the rehearsal's server keeps payloads inline",
    "PutPayloads": "moto refuses object requests to the TLS-only payload bucket (it drops the"
    " policy's condition): the rehearsal's server keeps payloads inline",
    "EmptyPayloadBuckets": "the payload bucket holds no object when dev is destroyed",
}
DENIED = "DENIED"
READ_REFUSED = "refused, as it must be (a person's read of event data)"
READ_ALLOWED = "ALLOWED: a read of event data"
FAILING = (DENIED, READ_ALLOWED)


def log(message: str) -> None:
    print(f"[iam-coverage] {message}", flush=True)


def _instances(state: Mapping[str, Any], kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(address, attributes) of every instance of a resource type in a raw state file."""
    for resource in state.get("resources", []):
        if resource.get("mode") != "managed" or resource["type"] != kind:
            continue
        prefix = f"{resource['module']}." if resource.get("module") else ""
        for instance in resource["instances"]:
            index = instance.get("index_key")
            suffix = "" if index is None else f"[{json.dumps(index)}]"
            yield f"{prefix}{kind}.{resource['name']}{suffix}", instance["attributes"]


@functools.cache
def managed_policy(arn: str) -> list[iam_policy.Statement]:
    """An AWS managed policy as moto loads it (MOTO_IAM_LOAD_MANAGED_POLICIES)."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    name = arn.rpartition("/")[2]
    document = json.loads(aws_managed_policies_data)[name]["Document"]
    return iam_policy.parse(document, name)


@dataclass
class World:
    """The identities evaluated, and what is known about the resources they call."""

    identities: dict[str, iam_policy.Identity]
    function_arns: dict[str, str]  # identity -> the function whose role it is
    resources: iam_actions.Resources

    def statements(self, identity: str) -> list[iam_policy.Statement]:
        found = self.identities[identity]
        return [*found.policies, *(found.boundary or ())]


def _roles(state: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every role of a state by name: its attributes, its inline policies and attached ARNs."""
    roles = {
        attrs["name"]: {**attrs, "inline": [], "attached": []}
        for _, attrs in _instances(state, "aws_iam_role")
    }
    for address, attrs in _instances(state, "aws_iam_role_policy"):
        role = attrs["role"].rpartition("/")[2]
        if role in roles:
            roles[role]["inline"].append((address, attrs["policy"]))
    for _, attrs in _instances(state, "aws_iam_role_policy_attachment"):
        if attrs["role"] in roles:
            roles[attrs["role"]]["attached"].append(attrs["policy_arn"])
    return roles


def _identity(
    name: str, role: Mapping[str, Any], boundaries: Mapping[str, str]
) -> iam_policy.Identity:
    policies: list[iam_policy.Statement] = []
    for address, document in role["inline"]:
        policies += iam_policy.parse(
            document, address.rpartition(".")[2].split("[")[0] + ":" + role["name"]
        )
    for arn in role["attached"]:
        # The bootstrap's own managed policies (the apply roles' consumers policy), else AWS's.
        if arn in boundaries:
            policies += iam_policy.parse(boundaries[arn], f"managed:{arn.rpartition('/')[2]}")
        else:
            policies += managed_policy(arn)
    boundary_arn = role.get("permissions_boundary") or ""
    boundary = (
        tuple(
            iam_policy.parse(
                boundaries[boundary_arn], f"boundary:{boundary_arn.rpartition('/')[2]}"
            )
        )
        if boundary_arn
        else None
    )
    return iam_policy.Identity(name, role["arn"], tuple(policies), boundary)


def load_world(directory: Path) -> World:
    """The deploy roles from the bootstrap's state; each environment's function role, function
    ARN, key policies and HTTP API tags from every version of its state."""
    bootstrap = json.loads((directory / BOOTSTRAP_STATE).read_text())
    boundaries = {a["arn"]: a["policy"] for _, a in _instances(bootstrap, "aws_iam_policy")}
    roles = _roles(bootstrap)
    identities: dict[str, iam_policy.Identity] = {}
    account = region = ""
    for name, role in roles.items():
        account = role["arn"].split(":")[4]
        if name.endswith("-github-plan"):
            identities[who.PLAN] = _identity(who.PLAN, role, boundaries)
        elif name.endswith("-github-apply"):
            environment = name.removesuffix("-github-apply").rpartition("-")[2]
            identities[who.apply_role(environment)] = _identity(
                who.apply_role(environment), role, boundaries
            )
    function_arns: dict[str, str] = {}
    resources = iam_actions.Resources(account=account, region="")
    for path in sorted(directory.glob("*-[0-9][0-9].tfstate")):
        environment = path.name.split("-")[0]
        state = json.loads(path.read_text())
        env_roles = _roles(state)
        for _, function in _instances(state, "aws_lambda_function"):
            region = function["arn"].split(":")[3]
            role_name = function["role"].rpartition("/")[2]
            if role_name in env_roles:
                key = who.function_role(environment)
                identities[key] = _identity(key, env_roles[role_name], boundaries)
                function_arns[key] = function["arn"]
        for role_name, role in env_roles.items():
            resources.role_paths[role_name] = role.get("path", "/")
        for _, api in _instances(state, "aws_apigatewayv2_api"):
            resources.api_tags[api["id"]] = api.get("tags") or {}
            resources.api_tags[api["arn"]] = api.get("tags") or {}
        for _, domain in _instances(state, "aws_apigatewayv2_domain_name"):
            resources.api_tags[domain["domain_name"]] = domain.get("tags") or {}
        for _, key_attrs in _instances(state, "aws_kms_key"):
            resources.key_policies[key_attrs["key_id"]] = key_attrs["policy"]
    resources.region = region
    return World(identities, function_arns, resources)


@dataclass
class Row:
    identity: str
    action: str
    resource: str
    verdict: str
    by: str
    count: int = 1


Rows = dict[tuple[str, str, str, str, str], Row]


def evaluate(directory: Path) -> tuple[list[Row], Counter[str], World]:
    """One row per distinct (identity, action, resource, verdict); the statements used, counted."""
    world = load_world(directory)
    rows: Rows = {}
    used: Counter[str] = Counter()
    for request in read_recording(directory / RECORDING):
        identity = who.identity_of(request.key) or f"unknown key {request.key}"
        world.resources.learn(request)
        if identity == who.PERSON:
            _refuse_reads(request, world, rows)
        if not who.evaluated(identity) or identity not in world.identities:
            _add(rows, Row(identity, request.summary, "", "not evaluated", ""))
            continue
        principal = world.identities[identity]
        for call in iam_actions.calls(request, world.resources, world.function_arns.get(identity)):
            key_policy = world.resources.key_policies.get(call.key_id or "")
            resource_policy = (
                iam_policy.parse(key_policy, f"key:{call.key_id}") if key_policy else None
            )
            action, decision = _decide(principal, call, resource_policy)
            for statement in [*decision.allowed_by, *decision.denied_by]:
                used[statement.label] += 1
                used[f"{statement.label} {action.lower()}"] += 1
            if decision.allowed:
                verdict, by = "allowed", _labels(decision.allowed_by[:2])
            else:
                exempt = _exempt(identity, call)
                if exempt is not None:
                    used[f"exempt {exempt}"] += 1
                verdict = f"exempt: {EXEMPT[exempt][3]}" if exempt is not None else DENIED
                by = _labels(decision.denied_by) or decision.why
            _add(rows, Row(identity, action, call.resource, verdict, by))
    return list(rows.values()), used, world


def _decide(
    principal: iam_policy.Identity,
    call: iam_actions.Call,
    resource_policy: Sequence[iam_policy.Statement] | None,
) -> tuple[str, iam_policy.Decision]:
    """The first of the call's actions (its own, or one AWS accepts instead) that is allowed,
    with its decision; else the call's own action's refusal."""
    decisions = [
        (
            action,
            iam_policy.decide(
                principal,
                action,
                call.resource,
                call.context,
                resource_policy,
                resource_policy_required=call.key_id is not None,
            ),
        )
        for action in (call.action, *call.instead)
    ]
    return next((d for d in decisions if d[1].allowed), decisions[0])


def _labels(statements: Sequence[iam_policy.Statement]) -> str:
    return ", ".join(s.label for s in statements)


def _refuse_reads(request: Request, world: World, rows: Rows) -> None:
    """A person's read of event data, asked as each evaluated identity: each must refuse it."""
    for identity, principal in sorted(world.identities.items()):
        function_arn = world.function_arns.get(identity)
        for call in iam_actions.calls(request, world.resources, function_arn):
            if call.action not in EVENT_READS:
                continue
            decision = iam_policy.decide(principal, call.action, call.resource, call.context)
            verdict = READ_ALLOWED if decision.allowed else READ_REFUSED
            by = _labels([*decision.allowed_by, *decision.denied_by]) or decision.why
            _add(rows, Row(identity, call.action, call.resource, verdict, by))


def _add(rows: Rows, row: Row) -> None:
    key = (row.identity, row.action, row.resource, row.verdict, row.by)
    if key in rows:
        rows[key].count += 1
    else:
        rows[key] = row


def _exempt(identity: str, call: iam_actions.Call) -> int | None:
    """The index of the EXEMPT entry the call is, if any."""
    for n, (caller, action, resource, _) in enumerate(EXEMPT):
        if (
            iam_policy.glob_match(caller, identity)
            and iam_policy.action_matches([action], call.action)
            and iam_policy.resource_matches([resource], call.resource)
        ):
            return n
    return None


def unused_statements(world: World, used: Counter[str]) -> list[str]:
    """The Allow statements of the evaluated identities' own policies and boundaries no call
    used (AWS's managed ReadOnlyAccess aside), each with why; denies are guard rails."""
    found = []
    for identity in sorted(world.identities):
        if identity.startswith(who.APPLY_PREFIX) and identity != who.apply_role("dev"):
            continue  # only dev is applied; prod's apply policy is the same document for prod
        for statement in world.statements(identity):
            if statement.effect != "Allow" or statement.where == "ReadOnlyAccess":
                continue
            if statement.label not in used:
                why = NOT_EXERCISED.get(statement.sid, "no call needs it: a candidate for removal")
                found.append(f"{identity}: {statement.label} ({why})")
    return list(dict.fromkeys(found))


def unused_actions(world: World, used: Counter[str]) -> list[str]:
    """The actions (named without wildcards) of used Allow statements that no call used."""
    found = []
    for identity in sorted(world.identities):
        if identity.startswith(who.APPLY_PREFIX) and identity != who.apply_role("dev"):
            continue
        for statement in world.statements(identity):
            if statement.effect != "Allow" or statement.where == "ReadOnlyAccess":
                continue
            if statement.label not in used:
                continue
            idle = [
                a
                for a in statement.elements.get("Action", ())
                if "*" not in a and f"{statement.label} {a.lower()}" not in used
            ]
            if idle:
                found.append(f"{identity}: {statement.label}: {', '.join(sorted(idle))}")
    return list(dict.fromkeys(found))


def print_table(rows: Sequence[Row]) -> None:
    """The evaluated calls (failures first), then how many calls each other identity made."""
    ordered = sorted(
        rows, key=lambda r: (r.verdict not in FAILING, r.identity, r.action, r.resource)
    )
    widths = (12, 36, 72)
    print(
        f"{'identity':<{widths[0]}} {'action':<{widths[1]}} {'resource':<{widths[2]}} "
        f"{'n':>4}  verdict (statement)"
    )
    for row in ordered:
        if who.evaluated(row.identity):
            print(
                f"{row.identity:<{widths[0]}} {row.action:<{widths[1]}} "
                f"{row.resource:<{widths[2]}} {row.count:>4}  {row.verdict} ({row.by})"
            )
    skipped: Counter[str] = Counter()
    for row in rows:
        if not who.evaluated(row.identity):
            skipped[row.identity] += row.count
    for identity, n in sorted(skipped.items()):
        print(f"{identity:<{widths[0]}} {n} calls not evaluated ({_why_not(identity)})")


def _why_not(identity: str) -> str:
    return {
        who.ADMIN: "the bootstrap and the deployments before the deploy roles: an administrator",
        who.PERSON: "reading events: a person, with their own credentials",
        who.REHEARSAL: "the rehearsal's own inspection of the emulator",
    }.get(identity, "no policy known for it")


def report(directory: Path) -> bool:
    """Print the call-coverage table and the unused statements; True if every call is allowed
    (and every read of event data refused)."""
    rows, used, world = evaluate(directory)
    print_table(rows)

    def total(verdicts: Callable[[str], bool]) -> int:
        return sum(r.count for r in rows if verdicts(r.verdict) and who.evaluated(r.identity))

    unused = unused_statements(world, used)
    log(f"Allow statements no call used ({len(unused)}):")
    for line in unused:
        log(f"  {line}")
    stale = [e for n, e in enumerate(EXEMPT) if f"exempt {n}" not in used]
    for caller, action, resource, _ in stale:
        log(f"exemption no call needed (remove it from EXEMPT): {caller} {action} {resource}")
    idle = unused_actions(world, used)
    log(f"Actions of used statements no call used ({len(idle)} statements):")
    for line in idle:
        log(f"  {line}")
    failing = total(lambda v: v in FAILING)
    log(
        f"{total(lambda v: v != READ_REFUSED)} calls evaluated: "
        f"{total(lambda v: v == 'allowed')} allowed, {failing} not allowed, "
        f"{total(lambda v: v.startswith('exempt'))} exempt (reasons above); "
        f"{total(lambda v: v == READ_REFUSED)} reads of event data refused to every role"
    )
    return failing == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path, help="the rehearsal's iam-coverage directory")
    args = parser.parse_args(argv)
    return 0 if report(args.directory) else 1


if __name__ == "__main__":
    raise SystemExit(main())
