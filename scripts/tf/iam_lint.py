"""parliament over every IAM policy document the Terraform modules render (make tf-parliament).

Where the documents come from: each module that renders policies has a ``tests/policies.tftest.hcl``
whose runs plan the module with the real AWS provider, offline (fake credentials, no account
lookup, the caller identity overridden). Every ARN a policy names is built from names, so every
document is known at plan time. ``terraform test -json -verbose`` prints each run's plan; every
``policy`` or ``assume_role_policy`` attribute of a planned resource is one document, exactly as it
would be sent to AWS. A policy attribute still unknown at plan time is an error: the document would
escape the lint (and the pull request's plan would not show it).

What fails: a parliament finding (community auditors included) of MEDIUM severity or more, unless
SUPPRESSIONS lists it with its reason. A suppression that no longer matches anything also fails,
so the list cannot rot. LOW and INFO findings are printed and counted, not failed.

Usage: python scripts/tf/iam_lint.py [--module modules/NAME ...] [--jobs N] [--show-documents]
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    from scripts.tf import offline
except ModuleNotFoundError:  # run as a script: python scripts/tf/iam_lint.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from scripts.tf import offline

ROOT = Path(__file__).resolve().parents[2]
TEST_FILE = "tests/policies.tftest.hcl"
POLICY_ATTRIBUTES = ("policy", "assume_role_policy")
# Resources whose policy argument this repository always sets: unknown at plan time is an error
# there. Elsewhere an unknown policy attribute is a computed one nobody set (aws_sns_topic.policy).
RENDERED_BY_CONFIGURATION = {
    "aws_iam_group_policy": "policy",
    "aws_iam_policy": "policy",
    "aws_iam_role": "assume_role_policy",
    "aws_iam_role_policy": "policy",
    "aws_iam_user_policy": "policy",
    "aws_kms_key": "policy",
    "aws_s3_bucket_policy": "policy",
    "aws_sns_topic_policy": "policy",
    "aws_sqs_queue_policy": "policy",
}
SEVERITIES = ("MUTE", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL")
FAIL_AT = "MEDIUM"
TERRAFORM = os.environ.get("TERRAFORM", "terraform")
STEP_TIMEOUT = 300  # seconds, one module's terraform test


class LintError(RuntimeError):
    """The documents could not be rendered or read: the lint cannot vouch for anything."""


@dataclass(frozen=True)
class Document:
    """One policy document as a planned resource attribute carries it."""

    module: str  # modules/NAME
    run: str  # the run block of tests/policies.tftest.hcl
    address: str  # e.g. aws_iam_role_policy.this["dev"]
    attribute: str  # policy | assume_role_policy
    text: str

    @property
    def name(self) -> str:
        return f"{self.module}:{self.address}.{self.attribute}"


@dataclass(frozen=True)
class Finding:
    document: Document
    issue: str
    severity: str
    title: str
    detail: str
    location: str

    def rank(self) -> int:
        # An unknown severity counts as the worst: never pass on what was not understood.
        return SEVERITIES.index(self.severity) if self.severity in SEVERITIES else len(SEVERITIES)

    def __str__(self) -> str:
        where = f" at {self.location}" if self.location else ""
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.severity} {self.issue} in {self.document.name}{where}{detail}"


@dataclass(frozen=True)
class Suppression:
    """A finding accepted on purpose.

    ``issue`` is parliament's finding id; ``document`` a glob over ``modules/NAME:ADDRESS.ATTRIBUTE``;
    ``contains`` text that the finding's detail or location must contain (the statement's Sid, an
    action, a condition key), so a suppression names one finding rather than a kind of finding.
    """

    issue: str
    document: str
    contains: str
    reason: str

    def matches(self, finding: Finding) -> bool:
        return (
            finding.issue == self.issue
            and fnmatch.fnmatchcase(finding.document.name, self.document)
            and self.contains in f"{finding.detail} {finding.location}"
        )


# Every finding of MEDIUM or more that is accepted, and why. Keep each one as narrow as it can be.
SUPPRESSIONS: tuple[Suppression, ...] = (
    Suppression(
        issue="MALFORMED",
        document="modules/*:*aws_iam_role.*.assume_role_policy",
        contains="neither Resource nor NotResource",
        reason="a trust policy names who may assume the role (Principal), never a Resource: "
        "parliament lints every document as an identity policy",
    ),
    Suppression(
        issue="UNKNOWN_FEDERATION_SOURCE",
        document="modules/github-oidc:aws_iam_role.*.assume_role_policy",
        contains=":oidc-provider/token.actions.githubusercontent.com",
        reason="GitHub's OIDC identity provider, pinned by aud and an exact sub (StringEquals); "
        "parliament 1.6.4 knows SAML providers and a few web identity issuers only",
    ),
    Suppression(
        issue="UNKNOWN_CONDITION_FOR_ACTION",
        document="modules/github-oidc:aws_iam_policy.this*.policy",
        contains="Unknown condition lambda:SourceFunctionArn",
        reason="lambda:SourceFunctionArn is injected by Lambda into every request made with a "
        "function's execution-role credentials and is meant for identity policies on any "
        "service's actions (AWS Lambda developer guide, 'Using source function ARN'); parliament "
        "only knows it for lambda: actions",
    ),
    Suppression(
        issue="UNKNOWN_CONDITION_FOR_ACTION",
        document="modules/ingest-function:aws_iam_role_policy.this.policy",
        contains="Unknown condition lambda:SourceFunctionArn",
        reason="same key as in the boundary: the function's credentials are honoured only in "
        "requests the function itself makes",
    ),
    Suppression(
        issue="PERMISSIONS_MANAGEMENT_ACTIONS",
        document="modules/github-oidc:aws_iam_role_policy.this*.policy",
        # The exact list: a new permission-management action makes this stale, and fails.
        contains='"actions": ["iam:createrole", "iam:deleterole", "iam:deleterolepolicy", '
        '"iam:passrole", "iam:putrolepermissionsboundary", "iam:putrolepolicy", "iam:updaterole", '
        '"iam:updateroledescription", "kms:createkey", "lambda:addpermission", '
        '"lambda:removepermission", "logs:putresourcepolicy", "s3:deletebucketpolicy", '
        '"s3:putbucketpolicy", "s3:putbucketpublicaccessblock", "sns:createtopic", '
        '"sns:settopicattributes"]',
        reason="an apply creates the function's role, its invoke permission, the alarm topic's "
        "policy and the payload bucket's TLS-only policy and public access block: only under the "
        "environment's path and prefix, with the boundary, passed to Lambda only, API Gateway as "
        "the only invoker; deploy roles are denied (tests: "
        "modules/github-oidc/tests/github_oidc.tftest.hcl)",
    ),
    Suppression(
        issue="RESOURCE_POLICY_PRIVILEGE_ESCALATION",
        document="modules/github-oidc:aws_iam_role_policy.this*.policy",
        contains="-payloads-* due to s3:",
        reason="an apply writes the payload bucket's policy (TLS only), but a bucket policy cannot "
        "give it the payloads: every deploy role's own policy denies s3:GetObject and s3:PutObject "
        "on them (NoEventPayloads), and an explicit deny wins over a bucket policy's allow",
    ),
    Suppression(
        issue="PERMISSIONS_MANAGEMENT_ACTIONS",
        document="modules/github-oidc:aws_iam_policy.this*.policy",
        contains='"actions": ["iam:passrole", "sqs:createqueue", "sqs:setqueueattributes"]',
        reason="the consumers' grants: PassRole of the bootstrap's pipe role only, to Pipes only; "
        "queue policies on the environment's own PROJECT-ENV-* queues (SQS has no condition key "
        "on a policy's content: docs/decisions/0031-pipe-role-from-the-bootstrap.md)",
    ),
    Suppression(
        issue="PRIVILEGE_ESCALATION",
        document="modules/github-oidc:aws_iam_role_policy.this*.policy",
        contains='"actions": ["lambda:updatefunctioncode"], "filepath": null, '
        '"type": "EditExistingLambdaFunctionWithRole"',
        reason="deploying code is the apply's job (lambda:UpdateFunctionCode on PROJECT-ENV-* "
        "only); the code runs with a role capped by the boundary: event writes, the "
        "environment's own secrets and parameters, logs, traces; no read of events",
    ),
    Suppression(
        issue="RESOURCE_MISMATCH",
        document="modules/github-oidc:aws_iam_role_policy.this*.policy",
        contains='[{"action": "kms:UpdateAlias", "required_format": "arn:*:kms:*:*:key/*"}, '
        '{"action": "kms:DeleteAlias", "required_format": "arn:*:kms:*:*:key/*"}, '
        '{"action": "kms:CreateAlias", "required_format": "arn:*:kms:*:*:key/*"}]',
        reason="alias actions need the alias and the key: the alias side is granted here "
        "(alias/PROJECT-ENV-*), the key side only by the environment's key policy "
        "(modules/alarms), so no IAM statement reaches an existing key",
    ),
    Suppression(
        issue="PERMISSIONS_MANAGEMENT_ACTIONS",
        document="modules/alarms:aws_kms_key.alarms*.policy",
        contains='"actions": ["kms:creategrant", "kms:createkey", "kms:putkeypolicy", '
        '"kms:retiregrant", "kms:revokegrant"]',
        reason="a key policy is where a key is administered: the account (delegating to IAM, "
        "AWS's default statement) and the environment's deploy role, which no IAM policy "
        "grants any existing key",
    ),
)


def terraform_env() -> dict[str, str]:
    """Offline Terraform (scripts/tf/offline.py) with fake credentials only."""
    env = offline.terraform_env()
    # The provider never reaches AWS in these runs; no credential of the caller is handed to it,
    # only fake ones (the test files name no credentials).
    for name in list(env):
        if name.startswith("AWS_"):
            del env[name]
    env.update(
        AWS_ACCESS_KEY_ID="offline",
        AWS_SECRET_ACCESS_KEY="offline",  # noqa: S106 - not a secret
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def modules_with_policies(root: Path = ROOT) -> list[Path]:
    return sorted(path.parents[1] for path in (root / "modules").glob(f"*/{TEST_FILE}"))


def run_terraform(module: Path, env: dict[str, str]) -> str:
    """``terraform test -json -verbose`` of the module's policies file (init first if needed)."""

    def call(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [TERRAFORM, f"-chdir={module}", *args, "-no-color"],
            env=env,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
            check=False,
        )

    if not (module / ".terraform").is_dir():
        init = call("init", "-backend=false", "-lockfile=readonly", "-input=false")
        if init.returncode != 0:
            raise LintError(
                f"terraform init in {module}: {init.stdout[-4000:]}{init.stderr[-4000:]}"
            )
    result = call("test", f"-filter={TEST_FILE}", "-json", "-verbose")
    if result.returncode != 0:
        raise LintError(
            f"terraform test {TEST_FILE} failed in {module}:\n"
            + "\n".join(diagnostics(result.stdout))
            + result.stderr[-4000:]
        )
    return result.stdout


def diagnostics(output: str) -> Iterator[str]:
    for line in output.splitlines():
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(message, dict):
            continue
        if message.get("type") == "test_run":
            yield str(message.get("@message", ""))
        elif message.get("type") == "diagnostic":
            detail = message.get("diagnostic", {}).get("detail", "")
            yield f"{message.get('@message', '')}: {detail}".rstrip(": ")


def documents(module: str, output: str) -> list[Document]:
    """The policy documents of every run's plan, from ``terraform test -json -verbose`` output."""
    found: list[Document] = []
    plans = 0
    for line in output.splitlines():
        if '"test_plan"' not in line:
            continue  # the plan messages are the only ones needed (and the only large ones)
        message = json.loads(line)
        if message.get("type") != "test_plan":
            continue
        plans += 1
        run = str(message.get("@testrun", "?"))
        for change in message["test_plan"].get("resource_changes", []):
            found.extend(documents_of_change(module, run, change))
    if plans == 0:
        raise LintError(f"{module}: terraform test printed no plan (is {TEST_FILE} plan-only?)")
    return found


def documents_of_change(module: str, run: str, change: dict[str, Any]) -> Iterator[Document]:
    if change.get("mode") != "managed":
        return
    planned = change.get("change", {})
    after = planned.get("after") or {}
    unknown = planned.get("after_unknown") or {}
    address = str(change.get("address"))
    required = RENDERED_BY_CONFIGURATION.get(str(change.get("type")))
    for attribute in POLICY_ATTRIBUTES:
        if unknown.get(attribute) is True and attribute == required:
            raise LintError(
                f"{module}: {address}.{attribute} is unknown at plan time in run {run!r}: build "
                "the ARNs it names from names (not from other resources) so it can be linted"
            )
        text = after.get(attribute)
        if isinstance(text, str) and text.strip():
            yield Document(module, run, address, attribute, text)


def unique(docs: Iterable[Document]) -> list[Document]:
    """One document per (module, address, attribute, text): several runs may render the same one."""
    seen: dict[tuple[str, str, str, str], Document] = {}
    for doc in docs:
        seen.setdefault((doc.module, doc.address, doc.attribute, doc.text), doc)
    return list(seen.values())


def lint(doc: Document) -> list[Finding]:
    import parliament  # type: ignore[import-untyped]

    policy = parliament.analyze_policy_string(doc.text, include_community_auditors=True)
    findings = []
    for raw in policy.findings:
        finding = parliament.enhance_finding(raw)
        findings.append(
            Finding(
                document=doc,
                issue=str(finding.issue),
                severity=str(finding.severity),
                title=str(finding.title),
                detail=compact(finding.detail),
                location=compact(finding.location),
            )
        )
    return findings


def compact(value: object) -> str:
    """A finding's detail or location as stable text (lists of names sorted, keys sorted)."""
    if value in (None, "", {}, []):
        return ""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(normalized(value), sort_keys=True, default=str)
    except (TypeError, ValueError):
        return str(value)


def normalized(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): normalized(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        items = [normalized(v) for v in value]
        names = [i for i in items if isinstance(i, str)]
        return sorted(names) if len(names) == len(items) else items
    return value


def load_community_config() -> None:
    """parliament's CLI loads the community auditors' severities this way; do the same."""
    import parliament

    override = Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml"
    parliament.override_config(str(override))
    # parliament 1.6.4's own service data types some keys ArrayOfARN (events:TargetArn), which its
    # type check does not know (it raises): check each value of such a key as an ARN.
    from parliament import statement

    translate = statement.translate_documentation_types
    statement.translate_documentation_types = lambda name: translate(
        "Arn" if name == "ArrayOfARN" else name
    )


@dataclass(frozen=True)
class Verdict:
    failing: list[Finding]
    suppressed: list[tuple[Finding, Suppression]]
    below: list[Finding]
    stale: list[Suppression]

    @property
    def ok(self) -> bool:
        return not self.failing and not self.stale


def judge(
    findings: Sequence[Finding],
    suppressions: Sequence[Suppression] = SUPPRESSIONS,
    *,
    report_stale: bool = True,
) -> Verdict:
    threshold = SEVERITIES.index(FAIL_AT)
    failing: list[Finding] = []
    suppressed: list[tuple[Finding, Suppression]] = []
    below: list[Finding] = []
    used: set[Suppression] = set()
    for finding in findings:
        if finding.rank() < threshold:
            below.append(finding)
            continue
        match = next((s for s in suppressions if s.matches(finding)), None)
        if match is None:
            failing.append(finding)
        else:
            suppressed.append((finding, match))
            used.add(match)
    stale = [s for s in suppressions if s not in used] if report_stale else []
    return Verdict(failing, suppressed, below, stale)


def render(modules: Sequence[Path], jobs: int) -> list[Document]:
    env = terraform_env()

    def one(module: Path) -> list[Document]:
        return documents(str(module.relative_to(ROOT)), run_terraform(module, env))

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        rendered = [doc for docs in pool.map(one, modules) for doc in docs]
    return unique(rendered)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--module", action="append", type=Path, help="only this module directory")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("TF_JOBS", "2")))
    parser.add_argument("--show-documents", action="store_true", help="print every document")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every finding in full")
    args = parser.parse_args(argv)

    modules = [ROOT / m for m in args.module] if args.module else modules_with_policies()
    if not modules:
        print(f"iam-lint: no modules/*/{TEST_FILE} found", file=sys.stderr)
        return 2
    try:
        docs = render(modules, args.jobs)
    except (LintError, subprocess.SubprocessError) as exc:
        print(f"iam-lint: {exc}", file=sys.stderr)
        return 2
    load_community_config()
    findings = [finding for doc in docs for finding in lint(doc)]
    # Linting part of the modules cannot tell a stale suppression from one for another module.
    verdict = judge(findings, SUPPRESSIONS, report_stale=not args.module)

    for doc in docs:
        if args.show_documents:
            print(f"--- {doc.name} (run {doc.run})\n{doc.text}")
    for finding in verdict.below:
        print(
            f"note: {finding}"
            if args.verbose
            else f"note: {finding.severity} {finding.issue} in {finding.document.name}"
        )
    for suppression in SUPPRESSIONS:
        matched = [f for f, s in verdict.suppressed if s == suppression]
        if matched:
            print(
                f"suppressed: {len(matched)} x {suppression.issue} in {suppression.document}: {suppression.reason}"
            )
            if args.verbose:
                for finding in matched:
                    print(f"    {finding}")
    for finding in verdict.failing:
        print(f"FAIL: {finding}")
    for suppression in verdict.stale:
        print(f"FAIL: stale suppression (matches nothing): {suppression}")
    print(
        f"iam-lint: {len(docs)} documents from {len(modules)} modules; "
        f"{len(verdict.failing)} failing, {len(verdict.suppressed)} suppressed, "
        f"{len(verdict.below)} below {FAIL_AT}, {len(verdict.stale)} stale suppressions"
    )
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
