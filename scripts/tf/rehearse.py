"""End-to-end Terraform rehearsal against the moto server (make rehearse, part of make test).

Stages: start moto -> apply environments/bootstrap (local state) -> init dev on the S3 backend with
DynamoDB locking that bootstrap created -> apply dev -> plan dev again (must be empty) -> plan prod ->
serve the real handler against dev's table and store an event -> destroy dev.

Upgrade path: bootstrap and dev are first applied as they were at MIGRATION_BASE (the layout before
modules/ingest-stack, exported with git archive), then the current configuration is planned on the
same state: every resource change must be a no-op, an update or a read (moved addresses are fine;
no create, no delete, no replacement), and only then is it applied; after the destroy, dev is
applied once more from scratch (and destroyed). Without that commit (a shallow clone), the step is
skipped with a notice and the current layout is applied from scratch only.

The committed environments are never edited. Everything emulator-specific goes in through Terraform's
own mechanisms, inside a scratch copy under .rehearsal/ (REHEARSAL_DIR): generated *_override.tf
files and an extra -backend-config file. Gaps of the emulator are worked around in MOTO_GAPS only,
each with its reason.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

try:
    from scripts import harness
    from scripts.tf import iam_coverage, offline
    from scripts.tf import iam_identities as who
except ModuleNotFoundError:  # run as a script: python scripts/tf/rehearse.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from scripts import harness
    from scripts.tf import iam_coverage, offline
    from scripts.tf import iam_identities as who

ROOT = Path(__file__).resolve().parents[2]
SCRATCH = Path(os.environ.get("REHEARSAL_DIR") or ROOT / ".rehearsal").resolve()
BIN = ROOT / ".venv" / "bin"
ARTIFACT = ROOT / "dist" / "ingest.zip"


def committed_region() -> str:
    """The region the committed dev environment deploys to (the emulator serves any region)."""
    tfvars = (ROOT / "environments" / "dev" / "terraform.tfvars").read_text()
    match = re.search(r'^aws_region\s*=\s*"([a-z0-9-]+)"', tfvars, re.MULTILINE)
    return match.group(1) if match else "eu-west-1"


REGION = committed_region()
# The last commit before the environments were composed from modules/ingest-stack (and before the
# alarms and the deploy roles became for_each resources): what every deployment made until then has
# in its state. The upgrade to the current layout must move addresses only.
MIGRATION_BASE = "2b531c7189e2530b9a21c18856f4fcb580620d59"
# What a plan of the current layout may do to a deployment of MIGRATION_BASE.
MIGRATION_ACTIONS = frozenset({"no-op", "update", "read"})
# What the current layout adds to such a deployment, the one create allowed: the bootstrap's pipe
# roles and the apply roles' consumers policies (docs/decisions/0031-pipe-role-from-the-bootstrap.md);
# each environment's payload bucket and its settings (docs/decisions/0034).
MIGRATION_ADDITIONS = re.compile(
    r'module\.github_oidc\.(module\.pipe_role\["[a-z0-9]+"\]\.aws_iam_role(_policy)?\.this'
    r'|aws_iam_policy\.this\["[a-z0-9]+-consumers"\]'
    r'|aws_iam_role_policy_attachment\.consumers\["[a-z0-9]+"\])'
    r"|module\.stack\.module\.event_store\.aws_s3_bucket(_[a-z_]+)?\.payloads"
)
TERRAFORM = os.environ.get("TERRAFORM", "terraform")
STEP_TIMEOUT = 600  # seconds, any single Terraform command
SERVICES = (
    "apigateway",
    "apigatewayv2",
    "cloudwatch",
    "dynamodb",
    "events",
    "iam",
    "kms",
    "lambda",
    "logs",
    "pipes",
    "s3",
    "secretsmanager",
    "sns",
    "sqs",
    "ssm",
    "sts",
)

# The one place where moto's gaps are worked around. Each entry: (module directory, override file
# contents, reason); the contents are a function of the module's own main.tf where the override
# restates one of its blocks (so it follows the module, in the current layout and in the base's).
# They only relax what Terraform compares in the rehearsal, never what is deployed.
MOTO_GAPS: list[tuple[str, Callable[[str], str], str]] = [
    (
        "modules/ingest-function",
        lambda _: (
            """resource "aws_lambda_function" "this" {
  lifecycle {
    ignore_changes = [logging_config]
  }
}
"""
        ),
        "moto does not store a function's LoggingConfig, so every plan would show a change.",
    ),
    (
        "modules/state-backend",
        lambda main: (
            """resource "aws_s3_bucket_policy" "state" {
  count = 0
}

"""
            + block(
                main,
                'resource "aws_s3_bucket_lifecycle_configuration" "state"',
                drop=("newer_noncurrent_versions", "depends_on"),
            )
        ),
        "(1) moto evaluates bucket policies but not their conditions: the TLS-only Deny"
        " (aws:SecureTransport = false) would deny every request, so that policy is left out here;"
        " (2) moto drops NewerNoncurrentVersions from the lifecycle rule, so the provider would wait"
        " for a read-back that never matches (the module's rule, without that one field).",
    ),
    (
        "modules/http-api",
        lambda _: (
            """resource "aws_apigatewayv2_stage" "default" {
  lifecycle {
    ignore_changes = [access_log_settings]
  }
}
"""
        ),
        "moto does not implement API Gateway v2's UpdateStage: a stage deployed with another access"
        " log format (the upgrade from the base) could not be updated (modules/http-api's tests"
        " check the format).",
    ),
    (
        "modules/event-bus-pipe",
        lambda _: (
            """resource "aws_sqs_queue" "example" {
  lifecycle {
    ignore_changes = [redrive_policy]
  }
}

resource "aws_sqs_queue_policy" "example" {
  lifecycle {
    ignore_changes = [policy]
  }
}

resource "aws_sqs_queue_policy" "example_dlq" {
  lifecycle {
    ignore_changes = [policy]
  }
}
"""
        ),
        "moto reads back an SQS queue's redrive policy and queue policy in a form the provider does"
        " not take for the one it sent, so every plan would show them changed.",
    ),
]


def block(text: str, header: str, drop: tuple[str, ...]) -> str:
    """One top-level block of a configuration file, without the lines that mention any of `drop`."""
    start = text.index(header + " {\n")
    end = text.index("\n}\n", start) + 3
    lines = text[start:end].splitlines(keepends=True)
    return "".join(line for line in lines if not any(word in line for word in drop))


timings: list[tuple[str, float]] = []
CERT = SCRATCH / "moto-cert.pem"
KEY = SCRATCH / "moto-key.pem"
# Every request moto serves, and the states the policies are read from (scripts/tf/iam_coverage.py).
COVERAGE = SCRATCH / "iam-coverage"
# Who makes the calls of the step under way in the real flow (scripts/tf/iam_identities.py).
acting: list[str] = [who.ADMIN]


@contextlib.contextmanager
def acting_as(identity: str) -> Iterator[None]:
    """Sign the requests made inside with ``identity``'s access key id."""
    acting.append(identity)
    try:
        yield
    finally:
        acting.pop()


def log(message: str) -> None:
    print(f"[rehearse] {message}", flush=True)


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    log(f"{name} ...")
    started = time.monotonic()
    try:
        yield
    finally:
        elapsed = time.monotonic() - started
        timings.append((name, elapsed))
        log(f"{name}: {elapsed:.1f}s")


def make_certificate() -> None:
    """A throwaway self-signed certificate for 127.0.0.1, so the emulator speaks TLS.

    The state bucket's policy denies aws:SecureTransport=false and moto enforces bucket policies:
    the backend must reach it over HTTPS exactly as it does on AWS.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    KEY.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    CERT.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def terraform_env() -> dict[str, str]:
    """Offline Terraform (scripts/tf/offline.py) with the emulator's credentials."""
    return emulator_env(offline.terraform_env())


def emulator_env(base: dict[str, str] | None = None, **more: str) -> dict[str, str]:
    """``base`` (default: this process's environment) without the caller's AWS settings: the
    emulator's fake credentials instead, and its certificate trusted."""
    # Go (Terraform) reads SSL_CERT_FILE, botocore AWS_CA_BUNDLE.
    trust = {"SSL_CERT_FILE": str(CERT), "AWS_CA_BUNDLE": str(CERT), **more}
    key = who.access_key(acting[-1])
    return harness.aws_env(REGION, key, session_token=True, base=base, extra=trust)


def tf(workdir: Path, *args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
    command = [TERRAFORM, f"-chdir={workdir}", *args, "-no-color"]
    result = subprocess.run(
        command,
        env=terraform_env(),
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
        check=False,
    )
    if result.returncode not in ok:
        sys.stdout.write(result.stdout[-20000:])
        sys.stderr.write(result.stderr[-20000:])
        raise RuntimeError(f"terraform {args[0]} in {workdir.name} exited {result.returncode}")
    return result


def prepare_scratch(endpoint: str) -> Path:
    """Copy modules/, environments/ and the artifact; add the override files."""
    work = SCRATCH / "work"
    if work.exists():
        shutil.rmtree(work)
    # The tests stay behind: their mock data lives outside modules/ and environments/.
    ignore = shutil.ignore_patterns(
        ".terraform", "*.tfstate", "*.tfstate.backup", "*.tfplan", "tests"
    )
    shutil.copytree(ROOT / "modules", work / "modules", ignore=ignore)
    shutil.copytree(ROOT / "environments", work / "environments", ignore=ignore)
    add_overrides(work, endpoint)
    return work


def base_layout(endpoint: str) -> Path | None:
    """modules/ and environments/ as they were at MIGRATION_BASE, with the same overrides.

    None when the commit is not in this clone (CI checkouts with a shallow history): the upgrade
    path is then not rehearsed, and the rehearsal says so.
    """
    base = SCRATCH / "base"
    if base.exists():
        shutil.rmtree(base)
    git = ["git", "-C", str(ROOT)]
    found = subprocess.run(
        [*git, "cat-file", "-e", f"{MIGRATION_BASE}^{{commit}}"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    if found.returncode != 0:
        shallow = subprocess.run(
            [*git, "rev-parse", "--is-shallow-repository"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout.strip()
        why = "a shallow clone" if shallow == "true" else "not in this clone's history"
        log(
            f"NOTICE: upgrade path not rehearsed: {MIGRATION_BASE[:12]} is {why} "
            "(fetch the full history to rehearse it); the current layout is applied from scratch"
        )
        return None
    archive = subprocess.run(
        [*git, "archive", "--format=tar", MIGRATION_BASE, "modules", "environments"],
        capture_output=True,
        timeout=120,
        check=True,
    )
    base.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(base, filter="data")
    add_overrides(base, endpoint)
    return base


def add_overrides(work: Path, endpoint: str) -> None:
    """The artifact, and the override files: provider endpoints and MOTO_GAPS."""
    (work / "dist").mkdir()
    shutil.copy2(ARTIFACT, work / "dist" / "ingest.zip")

    endpoints = "\n".join(f'    {name} = "{endpoint}"' for name in SERVICES)
    provider_override = f"""# Generated by scripts/tf/rehearse.py: point the provider at the moto server.
provider "aws" {{
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true

  endpoints {{
{endpoints}
  }}
}}
"""
    for env_dir in sorted((work / "environments").iterdir()):
        if env_dir.is_dir():
            (env_dir / "rehearsal_provider_override.tf").write_text(provider_override)
    for module, override, reason in MOTO_GAPS:
        if not (work / module).is_dir():  # a module the layout does not have yet (the base's)
            continue
        main = (work / module / "main.tf").read_text()
        body = f"# Generated by scripts/tf/rehearse.py (moto gap): {reason}\n{override(main)}"
        (work / module / "rehearsal_moto_gaps_override.tf").write_text(body)


def backend_overrides(endpoint: str, bucket: str, lock_table: str) -> Path:
    """Emulator settings layered after the committed ENV.s3.tfbackend (later -backend-config wins)."""
    path = SCRATCH / "emulator.s3.tfbackend"
    path.write_text(
        f"""bucket                      = "{bucket}"
dynamodb_table              = "{lock_table}"
region                      = "{REGION}"
use_path_style              = true
skip_credentials_validation = true
skip_requesting_account_id  = true
skip_metadata_api_check     = true
skip_region_validation      = true
endpoints = {{
  s3       = "{endpoint}"
  dynamodb = "{endpoint}"
  iam      = "{endpoint}"
  sts      = "{endpoint}"
}}
"""
    )
    return path


def outputs(workdir: Path) -> dict[str, Any]:
    raw = json.loads(tf(workdir, "output", "-json").stdout)
    return {name: value["value"] for name, value in raw.items()}


def http_json(method: str, url: str, body: object | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body)
    reply = harness.http(method, url, data, {"Content-Type": "application/json"}, timeout=10)
    return reply.status, json.loads(reply.body or b"null")


def rehearse_service(table: str, endpoint: str) -> None:
    """The service CLI (contract section 2) against the table dev created.

    The server makes the calls the function makes (with its role); listing and exporting are a
    person's, with their own credentials.
    """
    with acting_as(who.function_role("dev")):
        env = emulator_env()
    # No payload bucket: moto applies the payload bucket's TLS-only policy without its condition
    # (it would refuse every object request), and the function never creates or checks a bucket as
    # ingest serve does; the claim check runs against the emulator in the service's tests.
    serving = harness.ingest_serve(
        "--payload-bucket",
        "",
        table=table,
        endpoint_url=endpoint,
        env=env,
        command=[BIN / "ingest"],
        quiet=False,
        log=SCRATCH / "ingest-serve.log",
        timeout=60,
    )
    with serving.process as proc:
        event = {"type": "rehearsal.ping", "id": "r1"}
        status, answer = http_json("POST", f"{serving.url}/events", event)
        if status != 202:
            raise RuntimeError(f"POST /events answered {status}: {answer}")
        log(f"POST /events -> {status} {answer}")
        proc.popen.send_signal(signal.SIGTERM)
        proc.popen.wait(timeout=15)
    listed = person_reads(endpoint, "list", "--table", table)
    exported = SCRATCH / "export.jsonl"
    exported.unlink(missing_ok=True)
    person_reads(endpoint, "export", "--table", table, "--out", str(exported))
    for how, lines in (("listed", listed), ("exported", exported.read_text())):
        records = [json.loads(line) for line in lines.splitlines() if line.strip()]
        stored = [r for r in records if r.get("id") == "r1" and r.get("type") == "rehearsal.ping"]
        if not stored:
            raise RuntimeError(f"the event is not {how} from {table}: {lines[:2000]}")
        log(f"{how}: {json.dumps(stored[0], sort_keys=True)[:300]}")


def person_reads(endpoint: str, *args: str) -> str:
    """``ingest events ARGS`` as a person reading events with their own credentials: its stdout."""
    with acting_as(who.PERSON):
        env = emulator_env()
    command = [str(BIN / "ingest"), "events", *args, "--endpoint-url", endpoint]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def init_with_backend(workdir: Path, committed: str, extra: Path) -> None:
    """The committed ENV.s3.tfbackend first, then the emulator's settings on top."""
    tf(
        workdir,
        "init",
        "-lockfile=readonly",
        f"-backend-config={committed}",
        f"-backend-config={extra}",
    )


def expect_converged(workdir: Path, by: str = who.PLAN) -> None:
    """A plan right after an apply must be empty: no perpetual diff (the plan role's drift check,
    ``by`` someone else for the bootstrap)."""
    with acting_as(by):
        replan = tf(workdir, "plan", "-detailed-exitcode", ok=(0, 2))
    if replan.returncode != 0:
        sys.stdout.write(replan.stdout[-20000:])
        raise RuntimeError(f"{workdir.name} is not converged: the second plan has changes")


def plan_is_a_migration(workdir: Path) -> None:
    """Plan the current layout over a deployment of MIGRATION_BASE and apply exactly that plan.

    Every resource change must be a no-op, an update or a read (addresses may move): no create
    but of MIGRATION_ADDITIONS, no delete, no replacement. Prints each move and a summary of the
    actions.
    """
    plan_file = "migration.tfplan"
    tf(workdir, "plan", f"-out={plan_file}")
    shown = json.loads(tf(workdir, "show", "-json", plan_file).stdout)
    changes = shown.get("resource_changes", [])
    wrong = [
        f"{c['address']}: {'/'.join(c['change']['actions'])}"
        for c in changes
        if not set(c["change"]["actions"]) <= MIGRATION_ACTIONS
        and not (
            c["change"]["actions"] == ["create"] and MIGRATION_ADDITIONS.fullmatch(c["address"])
        )
    ]
    moved = [(c["previous_address"], c["address"]) for c in changes if c.get("previous_address")]
    for before, after in moved:
        log(f"  moved {before} -> {after}")
    for change in changes:
        if change["change"]["actions"] != ["no-op"]:
            log(f"  {'/'.join(change['change']['actions'])} {change['address']}")
    counts: dict[str, int] = {}
    for change in changes:
        action = "/".join(change["change"]["actions"])
        counts[action] = counts.get(action, 0) + 1
    summary = ", ".join(f"{n} {action}" for action, n in sorted(counts.items()))
    log(f"{workdir.name}: {len(changes)} resource changes ({summary}), {len(moved)} moved")
    if wrong:
        raise RuntimeError(
            f"{workdir.name}: the upgrade from {MIGRATION_BASE[:12]} would not only move: "
            + "; ".join(wrong)
        )
    tf(workdir, "apply", plan_file)


def apply_bootstrap(bootstrap: Path, base: Path | None) -> dict[str, Any]:
    """Apply the bootstrap (local state): from scratch, or as of MIGRATION_BASE then upgraded."""
    if base is None:
        with stage("bootstrap: init + apply"):
            tf(bootstrap, "init", "-lockfile=readonly")
            tf(bootstrap, "apply", "-auto-approve")
    else:
        old = base / "environments" / "bootstrap"
        with stage(f"bootstrap: init + apply as of {MIGRATION_BASE[:12]}"):
            tf(old, "init", "-lockfile=readonly")
            tf(old, "apply", "-auto-approve")
        shutil.copy2(old / "terraform.tfstate", bootstrap / "terraform.tfstate")
        with stage("bootstrap: upgrade (plan: moves only, then apply)"):
            tf(bootstrap, "init", "-lockfile=readonly")
            plan_is_a_migration(bootstrap)
    with stage("bootstrap: plan again (expects no changes)"):
        expect_converged(bootstrap, by=who.ADMIN)
    return outputs(bootstrap)


def apply_dev(dev: Path, base: Path | None, extra: Path) -> None:
    """Apply dev on the S3 backend: from scratch, or as of MIGRATION_BASE then upgraded."""
    if base is not None:
        old = base / "environments" / "dev"
        with stage(f"dev: init + apply as of {MIGRATION_BASE[:12]} (S3 backend + DynamoDB lock)"):
            init_with_backend(old, "dev.s3.tfbackend", extra)
            tf(old, "apply", "-auto-approve")
    with stage("dev: init (S3 backend + DynamoDB lock)"), acting_as(DEV_APPLY):
        init_with_backend(dev, "dev.s3.tfbackend", extra)
    if base is None:
        with stage("dev: apply"), acting_as(DEV_APPLY):
            tf(dev, "apply", "-auto-approve")
    else:
        with stage("dev: upgrade (plan: moves only, then apply)"), acting_as(DEV_APPLY):
            plan_is_a_migration(dev)
    with stage("dev: plan again (expects no changes)"):
        expect_converged(dev)


# The consumers (modules/event-bus-pipe) are off in every environment's values; the rehearsal turns
# them on in the scratch copy of dev: moto keeps the pipe's configuration (it runs no pipe: nothing
# is read from the stream or put on the bus), the bus, the rule and the queues.
DEV_APPLY = who.apply_role("dev")
CONSUMERS_OVERRIDE = """# Generated by scripts/tf/rehearse.py: the consumers on, with the example queue.
module "stack" {
  consumers = { enabled = true, filters = { type_prefixes = ["order."] }, example_queue = { enabled = true } }
}
"""


def rehearse_terraform(endpoint: str) -> None:
    with stage("scratch copy + overrides"):
        work = prepare_scratch(endpoint)
        base = base_layout(endpoint)
    dev = work / "environments" / "dev"
    prod = work / "environments" / "prod"

    boot = apply_bootstrap(work / "environments" / "bootstrap", base)
    log(f"state bucket {boot['state_bucket']}, lock table {boot['lock_table']}")
    extra = backend_overrides(endpoint, boot["state_bucket"], boot["lock_table"])
    apply_dev(dev, base, extra)
    with stage("dev: consumers on (pipe, bus, rule, queues): apply, plan again"):
        (dev / "rehearsal_consumers_override.tf").write_text(CONSUMERS_OVERRIDE)
        with acting_as(DEV_APPLY):
            tf(dev, "apply", "-auto-approve")
        expect_converged(dev)
    with stage("prod: init + plan"), acting_as(who.PLAN):
        init_with_backend(prod, "prod.s3.tfbackend", extra)
        plan = tf(prod, "plan", "-detailed-exitcode", ok=(2,))
        summary = [line for line in plan.stdout.splitlines() if line.startswith("Plan:")]
        log(f"prod {summary[0] if summary else 'plan done'}")

    with acting_as(DEV_APPLY):  # the apply job reads the outputs
        table = outputs(dev)["stack"]["table_name"]
    with stage("service: serve + POST /events + events list + export"):
        rehearse_service(table, endpoint)
    with stage("dev: state in S3, lock released"), acting_as(who.REHEARSAL):
        check_state(endpoint, boot["state_bucket"], boot["lock_table"])
    with stage("dev: destroy"), acting_as(DEV_APPLY):
        tf(dev, "destroy", "-auto-approve")
    if base is not None:
        # The upgraded deployment is gone: what a new fork does, from scratch, is left to rehearse.
        with stage("dev: apply from scratch, plan again, destroy"):
            with acting_as(DEV_APPLY):
                tf(dev, "apply", "-auto-approve")
            expect_converged(dev)
            with acting_as(DEV_APPLY):
                tf(dev, "destroy", "-auto-approve")
    with acting_as(who.REHEARSAL):
        keep_for_coverage(dev.parent / "bootstrap", endpoint, boot["state_bucket"])


def run(keep: bool) -> None:
    if not ARTIFACT.is_file():
        sys.exit(f"rehearse: {ARTIFACT.relative_to(ROOT)} is missing (make package)")
    SCRATCH.mkdir(parents=True, exist_ok=True)
    make_certificate()
    if COVERAGE.exists():
        shutil.rmtree(COVERAGE)
    COVERAGE.mkdir()
    # bootstrap attaches ReadOnlyAccess: moto loads AWS's managed policies for it. moto records
    # every request it serves (scripts/tf/iam_coverage.py checks each against its caller's policy).
    moto_env = emulator_env(
        MOTO_IAM_LOAD_MANAGED_POLICIES="true",
        MOTO_ENABLE_RECORDING="true",
        MOTO_RECORDER_FILEPATH=str(COVERAGE / iam_coverage.RECORDING),
    )

    try:
        with stage("start moto"):
            moto = harness.moto_server(
                env=moto_env, log=SCRATCH / "moto.log", tls=(CERT, KEY), binary=BIN / "moto_server"
            )
        with moto:
            rehearse_terraform(moto.url)
        with stage("IAM: every call allowed by its caller's policy"):
            if not iam_coverage.report(COVERAGE):
                raise RuntimeError("a call its identity's policy does not allow (table above)")
    finally:
        for scratch in (SCRATCH / "work", SCRATCH / "base"):
            if not keep and scratch.exists():
                shutil.rmtree(scratch)
        total = sum(seconds for _, seconds in timings)
        log("timings:")
        for name, seconds in timings:
            log(f"  {seconds:7.1f}s  {name}")
        log(f"  {total:7.1f}s  total")


def emulator_client(service: str, endpoint: str) -> Any:
    """A boto3 client of the emulator, signed as the identity acting."""
    import boto3  # noqa: TID251 - rehearsal-only inspection of the emulator

    key = who.access_key(acting[-1])
    session = boto3.session.Session(
        aws_access_key_id=key, aws_secret_access_key=key, region_name=REGION
    )
    client: Any = session.client  # one helper for any service (the stubs type each by name)
    return client(service, endpoint_url=endpoint, verify=str(CERT))


def keep_for_coverage(bootstrap: Path, endpoint: str, bucket: str) -> None:
    """What scripts/tf/iam_coverage.py reads the policies from: the bootstrap's state and every
    version dev's state had (the bucket is versioned), oldest first."""
    shutil.copy2(bootstrap / "terraform.tfstate", COVERAGE / "bootstrap.tfstate")
    s3 = emulator_client("s3", endpoint)
    key = "dev/terraform.tfstate"
    versions = s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])
    ordered = sorted((v for v in versions if v["Key"] == key), key=lambda v: v["LastModified"])
    for n, version in enumerate(ordered):
        body = s3.get_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])["Body"]
        (COVERAGE / f"dev-{n:02d}.tfstate").write_bytes(body.read())


def check_state(endpoint: str, bucket: str, lock_table: str) -> None:
    """The state object is in the bucket; no lock is left behind (neither table item nor lock file)."""
    s3 = emulator_client("s3", endpoint)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    if "dev/terraform.tfstate" not in keys:
        raise RuntimeError(f"dev state not in s3://{bucket}: {sorted(keys)}")
    if any(k.endswith(".tflock") for k in keys):
        raise RuntimeError(f"a lock file was left behind: {sorted(keys)}")
    dynamodb = emulator_client("dynamodb", endpoint)
    items = dynamodb.scan(TableName=lock_table)["Items"]
    held = [i for i in items if "Info" in i]
    if held:
        raise RuntimeError(f"a DynamoDB lock is still held: {held}")
    digests = [i["LockID"]["S"] for i in items]
    log(f"state keys {sorted(keys)}; lock table digests {digests}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Terraform rehearsal against moto")
    parser.add_argument("--keep", action="store_true", help="keep .rehearsal/work for inspection")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        run(keep=args.keep)
    except (RuntimeError, subprocess.SubprocessError) as exc:
        log(f"FAILED: {exc}")
        return 1
    log(f"rehearsal passed in {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
