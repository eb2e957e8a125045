"""A small IAM policy evaluator: does a set of policies allow an action on a resource?

What AWS decides for one account (docs: "Policy evaluation logic"): an explicit Deny in any policy
wins; otherwise the identity's policies (or a resource policy naming the principal) must allow, and
a permissions boundary, when the identity has one, must allow too. A KMS key is reached only
through its key policy: the identity's policies count only where the key policy delegates to the
account.

Supported: Action/NotAction and Resource/NotResource with * and ? wildcards; Principal in resource
policies; the condition operators String*, Arn*, Bool, Null and Numeric*, each with IfExists, and
the ForAnyValue:/ForAllValues: set qualifiers. Policy variables are not supported (the modules
render none); an unknown operator raises.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Condition keys a request carries: each a list of values (most keys have one).
Context = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class Statement:
    """One statement of a policy, as rendered; ``where`` names the policy it is part of."""

    where: str
    sid: str
    effect: str
    # Action, NotAction, Resource, NotResource and (resource policies) Principal: the AWS
    # principals it names, "*" for anyone. An element the statement does not have is absent.
    elements: Mapping[str, tuple[str, ...]]
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (operator, key, values)

    @property
    def label(self) -> str:
        return f"{self.where}/{self.sid or '(no Sid)'}"


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return (str(value),)


def _bool_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def parse(document: str | Mapping[str, Any], where: str) -> list[Statement]:
    """The statements of a policy document (JSON text or parsed)."""
    doc = json.loads(document) if isinstance(document, str) else document
    raw = doc["Statement"]
    statements = []
    for n, item in enumerate([raw] if isinstance(raw, dict) else raw):
        principal = item.get("Principal")
        if principal == "*":
            principals: tuple[str, ...] = ("*",)
        elif isinstance(principal, dict):
            principals = _strings(principal.get("AWS"))
        else:
            principals = ()
        conditions = tuple(
            (operator, key, tuple(_bool_text(v) for v in _values(values)))
            for operator, keys in (item.get("Condition") or {}).items()
            for key, values in keys.items()
        )
        statements.append(
            Statement(
                where=where,
                sid=item.get("Sid") or f"#{n}",
                effect=item["Effect"],
                elements={
                    name: _strings(item[name]) if name != "Principal" else principals
                    for name in ("Action", "NotAction", "Resource", "NotResource", "Principal")
                    if name in item
                },
                conditions=conditions,
            )
        )
    return statements


def _values(values: Any) -> list[Any]:
    return values if isinstance(values, list) else [values]


@functools.cache
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's wildcard match: ``*`` any run of characters (``/`` and ``:`` included), ``?`` one."""
    return _glob(pattern, ignore_case).fullmatch(value) is not None


def action_matches(patterns: Iterable[str], action: str) -> bool:
    return any(glob_match(p, action, ignore_case=True) for p in patterns)


def resource_matches(patterns: Iterable[str], resource: str) -> bool:
    return any(p == "*" or glob_match(p, resource) for p in patterns)


def _arn_like(pattern: str, value: str) -> bool:
    """ArnLike: the six colon-separated parts match one by one (the last may hold colons)."""
    want, have = pattern.split(":", 5), value.split(":", 5)
    if len(want) != 6 or len(have) != 6:
        return glob_match(pattern, value)
    return all(glob_match(w, h) for w, h in zip(want, have, strict=True))


def _numeric(op: str, want: str, have: str) -> bool:
    a, b = float(have), float(want)
    return {
        "NumericEquals": a == b,
        "NumericNotEquals": a != b,
        "NumericLessThan": a < b,
        "NumericLessThanEquals": a <= b,
        "NumericGreaterThan": a > b,
        "NumericGreaterThanEquals": a >= b,
    }[op]


def _one(op: str, want: str, have: str) -> bool:
    """Whether one request value satisfies one policy value under a positive operator."""
    if op in ("StringEquals", "ArnEquals"):
        return want == have
    if op == "StringEqualsIgnoreCase":
        return want.lower() == have.lower()
    if op == "StringLike":
        return glob_match(want, have)
    if op == "ArnLike":
        return _arn_like(want, have)
    if op == "Bool":
        return want.lower() == have.lower()
    if op.startswith("Numeric"):
        return _numeric(op, want, have)
    raise ValueError(f"condition operator not supported: {op}")


_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def condition_holds(operator: str, key: str, wanted: Sequence[str], context: Context) -> bool:
    """One condition (operator, key, values) against the request's context keys."""
    qualifier, _, op = operator.rpartition(":")
    if_exists = op.endswith("IfExists")
    op = op.removesuffix("IfExists")
    present = _lookup(context, key)
    if op == "Null":
        return all((v.lower() == "true") == (present is None) for v in wanted)
    if present is None or (qualifier and not present):
        # Missing key: ForAllValues holds (nothing to check); negated operators and IfExists
        # hold; every other operator fails.
        return qualifier == "ForAllValues" or if_exists or (op in _NEGATED and not qualifier)
    base = _NEGATED.get(op, op)

    def satisfied(have: str) -> bool:
        hit = any(_one(base, w, have) for w in wanted)
        return not hit if op in _NEGATED else hit

    if qualifier == "ForAllValues":
        return all(satisfied(h) for h in present)
    return any(satisfied(h) for h in present)  # ForAnyValue, and a plain key


def _lookup(context: Context, key: str) -> Sequence[str] | None:
    # Condition keys are case-insensitive (tag keys in them are not, but ours match exactly).
    for name, values in context.items():
        if name.lower() == key.lower():
            return values
    return None


def applies(statement: Statement, action: str, resource: str, context: Context) -> bool:
    """Whether the statement covers this action on this resource with these condition keys."""
    e = statement.elements
    if "Action" in e and not action_matches(e["Action"], action):
        return False
    if "NotAction" in e and action_matches(e["NotAction"], action):
        return False
    if "Resource" in e and not resource_matches(e["Resource"], resource):
        return False
    if "NotResource" in e and resource_matches(e["NotResource"], resource):
        return False
    return all(
        condition_holds(op, key, values, context) for op, key, values in statement.conditions
    )


def _names(principals: Sequence[str], principal: str, account_root: str) -> tuple[bool, bool]:
    """(names the principal itself, delegates to the account) for a resource policy statement."""
    direct = "*" in principals or principal in principals
    return direct, account_root in principals or direct


@dataclass
class Decision:
    """The outcome for one action on one resource, with the statements that decided it."""

    allowed: bool
    allowed_by: list[Statement] = field(default_factory=list)
    denied_by: list[Statement] = field(default_factory=list)
    why: str = ""


@dataclass(frozen=True)
class Identity:
    """A principal's policies: its own (inline and attached), its boundary (None: it has none)."""

    name: str
    arn: str
    policies: tuple[Statement, ...]
    boundary: tuple[Statement, ...] | None = None

    @property
    def account_root(self) -> str:
        account = self.arn.split(":")[4]
        return f"arn:aws:iam::{account}:root"


def decide(
    identity: Identity,
    action: str,
    resource: str,
    context: Context,
    resource_policy: Sequence[Statement] | None = None,
    *,
    resource_policy_required: bool = False,
) -> Decision:
    """AWS's decision for ``identity`` calling ``action`` on ``resource``.

    ``resource_policy`` is the resource's own policy (a KMS key policy); with
    ``resource_policy_required`` (KMS) the identity's policies count only where it delegates to
    the account.
    """
    own = [s for s in identity.policies if applies(s, action, resource, context)]
    fence = (
        None
        if identity.boundary is None
        else [s for s in identity.boundary if applies(s, action, resource, context)]
    )
    other = [s for s in resource_policy or () if applies(s, action, resource, context)]
    denied = [s for s in [*own, *(fence or []), *other] if s.effect == "Deny"]
    if denied:
        return Decision(False, denied_by=denied, why="explicit deny")
    named = [
        (s, _names(s.elements.get("Principal", ()), identity.arn, identity.account_root))
        for s in other
    ]
    direct = [s for s, (itself, _) in named if itself]
    delegated = [s for s, (_, account) in named if account]
    allows = [s for s in own if s.effect == "Allow"]
    if resource_policy_required and not delegated:
        return Decision(False, why="the resource policy grants neither the role nor the account")
    if fence is not None and not any(s.effect == "Allow" for s in fence):
        return Decision(False, why="the permissions boundary does not allow it")
    if allows or direct:
        bounded = [s for s in fence or () if s.effect == "Allow"]
        return Decision(True, allowed_by=[*allows, *direct, *bounded])
    return Decision(False, why="no statement allows it")
