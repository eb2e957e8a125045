"""Point a fork at its AWS account and configure its GitHub repository, in one command.

    python3 scripts/fork.py --account-id 123456789012 --region eu-west-1 --repo OWNER/NAME \
        [--bootstrap-outputs FILE | --bootstrap-from-terraform] \
        [--reviewer LOGIN | --reviewer ORG/TEAM]... [--solo] \
        [--alarm-email ADDRESS] [--existing-oidc-provider] [--require-plan-checks] \
        [--files-only | --github-only] [--dry-run] [--api-url URL] [--root DIR]

(`make fork ARGS="..."` runs the same.) Two halves, both idempotent:

Files: every line marked ``# FORK`` under environments/, modules/ and .github/ gets its value
from the arguments and the bootstrap outputs (region, account, owner/repository, state bucket);
a commented-out recommended line (``# allowed_account_ids = ...``) is switched on. Only those
lines change, re-aligned the way ``terraform fmt`` aligns them.

GitHub, through the REST API with ``GITHUB_TOKEN`` (admin on the repository): Actions enabled,
the workflows enabled (a fork starts with its scheduled ones off), read-only default workflow
token; environments ``dev`` and ``prod`` deployable from ``main`` only, ``prod`` with required
reviewers; the variables the workflows read (``AWS_REGION``, ``AWS_PLAN_ROLE_ARN`` for the
repository, ``AWS_APPLY_ROLE_ARN`` per environment); a ruleset on ``main`` requiring pull
requests and the CI status checks.

Everything is read first and compared; only differences are written. ``--dry-run`` prints every
change (file diffs and API calls) and makes none; a second run prints "Nothing to change".
``--solo`` is for a fork run by one person: the token's user reviews ``prod`` and may approve
their own deployments, and a pull request needs no approving review.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
USER_AGENT = "ingest-fork"
TIMEOUT_SECONDS = 30

ENVIRONMENTS = ("dev", "prod")
REVIEWED_ENVIRONMENT = "prod"
DEPLOY_BRANCH = "main"
# Where `# FORK` markers may live (docs/terraform.md, "Variables a fork must set").
MARKED_DIRS = ("environments", "modules", ".github")
MARKER = re.compile(r"#[ \t]*FORK\b")
BOOTSTRAP_TFVARS = Path("environments/bootstrap/terraform.tfvars")
WORKFLOW_DIR = Path(".github/workflows")

# The status checks a pull request into main must pass: the job names of ci.yml, which runs on
# every pull request. The plan jobs of plan.yml run only when planned paths change, so requiring
# them would hold every other pull request forever; --require-plan-checks adds them anyway.
CI_CHECKS = ("make test", "tflint and terraform-docs")
PLAN_CHECKS = ("Plan dev", "Plan prod")
# GitHub Actions' app id: a required check counts only when Actions reported it.
ACTIONS_APP_ID = 15368
RULESET_NAME = "main"

# The variables the workflows read: repository-wide, and per GitHub environment (only the apply
# job runs in an environment). tests/tooling/fork checks these against .github/workflows.
REPOSITORY_VARIABLES = ("AWS_REGION", "AWS_PLAN_ROLE_ARN")
ENVIRONMENT_VARIABLES = ("AWS_APPLY_ROLE_ARN",)

ACCOUNT_ID = re.compile(r"^\d{12}$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")  # as environments/bootstrap validates it
OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
REPO_NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
TEAM_SLUG = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(?P<account>\d{12}):role/[\w+=,.@/-]{1,512}$")
MAX_REVIEWERS = 6  # GitHub's limit per environment


class ForkError(Exception):
    """A problem the user can fix; printed as one line, without a traceback."""


# ---- Inputs ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reviewer:
    """A prod reviewer: a user (``login``) or a team (``org/slug``)."""

    kind: str  # "User" or "Team"
    name: str

    @classmethod
    def parse(cls, text: str) -> Reviewer:
        if "/" in text:
            org, _, slug = text.partition("/")
            if not OWNER.match(org) or not TEAM_SLUG.match(slug):
                raise ForkError(f"--reviewer {text!r} is neither a GitHub login nor ORG/TEAM")
            return cls("Team", f"{org}/{slug}")
        if not OWNER.match(text):
            raise ForkError(f"--reviewer {text!r} is neither a GitHub login nor ORG/TEAM")
        return cls("User", text)


@dataclass(frozen=True)
class BootstrapOutputs:
    """What `terraform -chdir=environments/bootstrap output -json` says (the parts used here)."""

    state_bucket: str
    lock_table: str
    plan_role_arn: str
    apply_role_arns: Mapping[str, str]
    backend_region: str | None

    @classmethod
    def parse(cls, text: str, source: str) -> BootstrapOutputs:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as error:
            raise ForkError(f"{source} is not JSON ({error.msg} at line {error.lineno})") from None
        if not isinstance(raw, dict):
            raise ForkError(f"{source} is not the object `terraform output -json` prints")
        if not raw:
            raise ForkError(
                f"{source} has no outputs: apply environments/bootstrap first (terraform apply)"
            )

        def value(name: str) -> Any:
            entry = raw.get(name)
            if not isinstance(entry, dict) or "value" not in entry:
                raise ForkError(f"{source} has no output {name!r}")
            return entry["value"]

        bucket, table, plan_role = (
            value("state_bucket"),
            value("lock_table"),
            value("plan_role_arn"),
        )
        applies = value("apply_role_arns")
        for name, item in (("state_bucket", bucket), ("lock_table", table)):
            if not isinstance(item, str) or not item:
                raise ForkError(f"{source}: {name} is not a non-empty string")
        if not isinstance(plan_role, str) or not ROLE_ARN.match(plan_role):
            raise ForkError(f"{source}: plan_role_arn {plan_role!r} is not an IAM role ARN")
        if not isinstance(applies, dict):
            raise ForkError(f"{source}: apply_role_arns is not a map of environment to role ARN")
        for env in ENVIRONMENTS:
            arn = applies.get(env)
            if not isinstance(arn, str) or not ROLE_ARN.match(arn):
                raise ForkError(f"{source}: apply_role_arns has no IAM role ARN for {env!r}")
        region = None
        configs = raw.get("backend_configs", {}).get("value")
        if isinstance(configs, dict):
            for config in configs.values():
                found = re.search(r'^region\s*=\s*"([^"]*)"', str(config), re.MULTILINE)
                region = found.group(1) if found else region
        return cls(bucket, table, plan_role, {e: applies[e] for e in ENVIRONMENTS}, region)

    def accounts(self) -> set[str]:
        arns = [self.plan_role_arn, *self.apply_role_arns.values()]
        return {match.group("account") for arn in arns if (match := ROLE_ARN.match(arn))}


@dataclass(frozen=True)
class Config:
    account_id: str
    region: str
    owner: str
    name: str
    outputs: BootstrapOutputs | None
    reviewers: tuple[Reviewer, ...]
    solo: bool
    alarm_email: str | None
    existing_oidc_provider: bool
    require_plan_checks: bool
    files: bool
    github: bool
    dry_run: bool
    api_url: str
    root: Path

    @property
    def repo(self) -> str:
        return f"{self.owner}/{self.name}"

    def required_checks(self) -> tuple[str, ...]:
        return CI_CHECKS + (PLAN_CHECKS if self.require_plan_checks else ())


def load_outputs(path: str | None, from_terraform: bool, root: Path) -> BootstrapOutputs | None:
    if path == "-":
        return BootstrapOutputs.parse(sys.stdin.read(), "the bootstrap outputs on stdin")
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise ForkError(f"cannot read {path}: {error.strerror}") from None
        return BootstrapOutputs.parse(text, path)
    if not from_terraform:
        return None
    binary = os.environ.get("TERRAFORM_BIN", "terraform")
    command = [binary, "-chdir=environments/bootstrap", "output", "-json"]
    try:
        result = subprocess.run(
            command, cwd=root, capture_output=True, text=True, check=False, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ForkError(f"cannot run {' '.join(command)}: {error}") from None
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise ForkError(f"{' '.join(command)} failed: {last}")
    return BootstrapOutputs.parse(result.stdout, "terraform output -json")


# ---- Files -----------------------------------------------------------------------------------------

# A marked line: `key = value  # FORK...`, or the same commented out (`# key = value # FORK...`).
_MARKED = re.compile(
    r"^(?P<indent>[ \t]*)(?P<off>#[ \t]*)?(?P<key>[A-Za-z_][A-Za-z0-9_-]*)[ \t]*=[ \t]*"
    r"(?P<value>\S.*?)[ \t]+(?P<marker>#[ \t]*FORK\b.*)$"
)
_ATTRIBUTE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<key>[A-Za-z_][A-Za-z0-9_-]*)[ \t]*=[ \t]*(?P<rest>.*)$"
)
# Not marked itself, but the value create_oidc_provider = false needs (see --existing-oidc-provider).
_COMPANION = re.compile(r"^(?P<indent>[ \t]*)(?P<off>#[ \t]*)?oidc_provider_arn[ \t]*=")

HclValue = str | bool | list[str]


def hcl(value: HclValue) -> str:
    """The HCL literal of a value checked by the validations above (no escapes needed)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(hcl(item) for item in value) + "]"
    if re.search(r'["\\\n]|\$\{|%\{', value):
        raise ForkError(f"refusing to write {value!r} into HCL")
    return f'"{value}"'


def state_bucket(config: Config) -> str:
    """The state bucket: the bootstrap's output, or the name it derives (PROJECT-tfstate-ACCOUNT-REGION)."""
    if config.outputs is not None:
        return config.outputs.state_bucket
    settings = simple_attributes(config.root / BOOTSTRAP_TFVARS)
    if "state_bucket_name" in settings:
        return settings["state_bucket_name"]
    project = settings.get("project", "ingest")
    return f"{project}-tfstate-{config.account_id}-{config.region}"


def lock_table(config: Config) -> str:
    if config.outputs is not None:
        return config.outputs.lock_table
    settings = simple_attributes(config.root / BOOTSTRAP_TFVARS)
    return settings.get("lock_table_name", f"{settings.get('project', 'ingest')}-terraform-locks")


def simple_attributes(path: Path) -> dict[str, str]:
    """`key = "string"` lines of a tfvars or backend file (what a fork would have set)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    found = re.findall(r'^([A-Za-z_][A-Za-z0-9_-]*)[ \t]*=[ \t]*"([^"]*)"', text, re.MULTILINE)
    return dict(found)


def marked_values(config: Config) -> dict[str, HclValue | None]:
    """The value of each key a fork sets; None: leave the line as it is."""
    return {
        "aws_region": config.region,
        "region": config.region,
        "bucket": state_bucket(config),
        "github_owner": config.owner,
        "github_repository": config.name,
        "allowed_account_ids": [config.account_id],
        "alarm_email": config.alarm_email,
        "create_oidc_provider": False if config.existing_oidc_provider else None,
    }


@dataclass
class FileChange:
    path: Path  # relative to the repository root
    before: str
    after: str

    def diff(self) -> list[str]:
        lines = difflib.unified_diff(
            self.before.splitlines(),
            self.after.splitlines(),
            f"a/{self.path.as_posix()}",
            f"b/{self.path.as_posix()}",
            n=0,
            lineterm="",
        )
        return list(lines)


def marked_files(root: Path) -> list[Path]:
    """Every text file under MARKED_DIRS with a `# FORK` marker (Terraform's caches skipped)."""
    found: list[Path] = []
    for top in MARKED_DIRS:
        for directory, subdirectories, names in os.walk(root / top):
            subdirectories[:] = [d for d in subdirectories if d != ".terraform"]  # prune the walk
            for name in names:
                path = Path(directory) / name
                if path.suffix in {".zip", ".tfstate", ".backup"}:
                    continue
                try:
                    text = path.read_bytes().decode("utf-8")
                except (OSError, UnicodeDecodeError):
                    continue
                if MARKER.search(text):
                    found.append(path)
    return sorted(found)


def rewrite(
    text: str, values: Mapping[str, HclValue | None], oidc_arn: str | None
) -> tuple[str, list[str]]:
    """`text` with every marked value set; also the keys marked but unknown here."""
    lines = text.splitlines(keepends=True)
    bodies = [line.rstrip("\r\n") for line in lines]
    endings = [line[len(body) :] for line, body in zip(lines, bodies, strict=True)]
    changed: set[int] = set()
    unknown: list[str] = []
    sets_oidc = False
    for index, body in enumerate(bodies):
        match = _MARKED.match(body)
        if not match:
            continue
        key = match.group("key")
        if key not in values:
            unknown.append(key)
            continue
        wanted = values[key]
        if wanted is None:
            continue
        sets_oidc = sets_oidc or key == "create_oidc_provider"
        literal = hcl(wanted)
        if match.group("off") is None and match.group("value") == literal:
            continue
        bodies[index] = f"{match.group('indent')}{key} = {literal} {match.group('marker')}"
        changed.add(index)
    if sets_oidc and oidc_arn is not None:
        for index, body in enumerate(bodies):
            match = _COMPANION.match(body)
            if not match:
                continue
            literal = hcl(oidc_arn)
            current = _ATTRIBUTE.match(body)
            if match.group("off") is None and current and current.group("rest").strip() == literal:
                continue
            bodies[index] = f"{match.group('indent')}oidc_provider_arn = {literal}"
            changed.add(index)
    for index in align(bodies, changed):
        changed.add(index)
    return "".join(b + e for b, e in zip(bodies, endings, strict=True)), unknown


#: What decides where an attribute's value ends: strings (escapes kept inside), brackets and the
#: start of a comment.
_TOKEN = re.compile(r'"(?:\\.|[^"\\])*(?P<closed>"?)|[\[{(\]})]|#|//')


@dataclass
class _Cells:
    indent: str
    key: str
    value: str
    comment: str | None


def _cells(line: str) -> _Cells | None:
    """A single-line attribute split into cells, or None (any other line ends an alignment run)."""
    match = _ATTRIBUTE.match(line)
    if not match or line.lstrip().startswith(("#", "//")):
        return None
    rest = match.group("rest")
    depth = 0
    comment: str | None = None
    for token in _TOKEN.finditer(rest):
        text = token.group()
        if text.startswith('"'):
            if not token.group("closed"):
                return None  # a string that goes on past the line
        elif text in ("#", "//"):
            comment = rest[token.start() :]
            rest = rest[: token.start()]
            break
        else:
            depth += 1 if text in "[{(" else -1
    value = rest.rstrip()
    if depth != 0 or not value or "<<" in value:
        return None
    return _Cells(match.group("indent"), match.group("key"), value, comment)


def _runs(cells: Sequence[_Cells | None], member: Callable[[_Cells], bool]) -> Iterator[range]:
    start: int | None = None
    for index, cell in enumerate([*cells, None]):
        inside = cell is not None and member(cell)
        if inside and start is None:
            start = index
        elif not inside and start is not None:
            yield range(start, index)
            start = None


def align(bodies: list[str], changed: set[int]) -> set[int]:
    """Re-align, as `terraform fmt` does, the runs of attribute lines that hold a changed line.

    Consecutive attribute lines align their `=`; consecutive lines with a trailing comment align
    the comment one space after the longest code. Returns the lines rewritten.
    """
    cells = [_cells(body) for body in bodies]
    touched = set(changed)
    for run in _runs(cells, lambda _cell: True):
        if not touched.intersection(run):
            continue
        width = max(len(c.indent + c.key) for i in run if (c := cells[i]))
        for i in run:
            cell = cells[i]
            assert cell is not None
            cell.key = cell.key + " " * (width - len(cell.indent + cell.key))
            touched.add(i)

    def code(cell: _Cells) -> str:
        return f"{cell.indent}{cell.key} = {cell.value}"

    for run in _runs(cells, lambda cell: cell.comment is not None):
        if not touched.intersection(run):
            continue
        width = max(len(code(c)) for i in run if (c := cells[i]))
        for i in run:
            cell = cells[i]
            assert cell is not None
            assert cell.comment is not None
            cell.comment = " " * (width - len(code(cell))) + cell.comment
    rewritten: set[int] = set()
    for i in touched:
        cell = cells[i]
        if cell is None:
            continue
        line = code(cell) + (f" {cell.comment}" if cell.comment is not None else "")
        if line != bodies[i]:
            bodies[i] = line
            rewritten.add(i)
    return rewritten


def plan_files(config: Config) -> tuple[list[FileChange], list[str]]:
    values = marked_values(config)
    oidc_arn = (
        f"arn:aws:iam::{config.account_id}:oidc-provider/token.actions.githubusercontent.com"
        if config.existing_oidc_provider
        else None
    )
    changes: list[FileChange] = []
    notes: list[str] = []
    for path in marked_files(config.root):
        before = path.read_bytes().decode("utf-8")  # bytes: line endings stay as they are
        after, unknown = rewrite(before, values, oidc_arn)
        relative = path.relative_to(config.root)
        notes += [
            f"{relative}: {key} is marked FORK but has no value here; left as is" for key in unknown
        ]
        if after != before:
            changes.append(FileChange(relative, before, after))
    for env in ENVIRONMENTS:
        backend = simple_attributes(config.root / "environments" / env / f"{env}.s3.tfbackend")
        table = lock_table(config)
        if backend.get("dynamodb_table", table) != table:
            notes.append(
                f"environments/{env}/{env}.s3.tfbackend: dynamodb_table is "
                f"{backend['dynamodb_table']!r}, the bootstrap's lock table {table!r} (not marked FORK; left as is)"
            )
    return changes, notes


# ---- GitHub ----------------------------------------------------------------------------------------


class GitHub:
    """The few REST calls needed, with urllib; every error becomes one ForkError line."""

    def __init__(self, api_url: str, token: str) -> None:
        self.api_url = api_url.rstrip("/")
        self.token = token

    def request(
        self, method: str, path: str, body: Any = None, query: Mapping[str, str] | None = None
    ) -> tuple[int, Any, Mapping[str, str]]:
        url = self.api_url + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Accept", "application/vnd.github+json")
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("X-GitHub-Api-Version", API_VERSION)
        request.add_header("User-Agent", USER_AGENT)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                raw = response.read()
                headers = dict(response.headers.items())
                return response.status, json.loads(raw) if raw.strip() else None, headers
        except urllib.error.HTTPError as error:
            raw = error.read()
            headers = dict(error.headers.items()) if error.headers else {}
            try:
                payload = json.loads(raw) if raw.strip() else None
            except json.JSONDecodeError:
                payload = None
            return error.code, payload, headers
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ForkError(f"cannot reach {self.api_url}: {reason}") from None
        except json.JSONDecodeError:
            raise ForkError(f"{method} {path}: the answer is not JSON") from None

    def call(
        self, method: str, path: str, body: Any = None, query: Mapping[str, str] | None = None
    ) -> Any:
        status, payload, _ = self.request(method, path, body, query)
        if status >= 400:
            raise ForkError(f"{method} {path}: {status} {error_message(payload)}")
        return payload

    def get(self, path: str, query: Mapping[str, str] | None = None) -> Any:
        """The resource, or None when GitHub answers 404."""
        status, payload, _ = self.request("GET", path, None, query)
        if status == 404:
            return None
        if status >= 400:
            raise ForkError(f"GET {path}: {status} {error_message(payload)}")
        return payload

    def get_all(
        self, path: str, key: str | None, query: Mapping[str, str] | None = None
    ) -> list[Any] | None:
        """Every item of a paginated list (following Link: rel="next"), or None on 404."""
        items: list[Any] = []
        params = {**(query or {}), "per_page": "100"}
        page = 1
        while True:
            status, payload, headers = self.request(
                "GET", path, None, {**params, "page": str(page)}
            )
            if status == 404:
                return None
            if status >= 400:
                raise ForkError(f"GET {path}: {status} {error_message(payload)}")
            batch = payload.get(key) if key and isinstance(payload, dict) else payload
            if not isinstance(batch, list):
                raise ForkError(f"GET {path}: unexpected answer")
            items += batch
            link = next((v for k, v in headers.items() if k.lower() == "link"), "")
            if 'rel="next"' not in link:
                return items
            page += 1


def error_message(payload: Any) -> str:
    if not isinstance(payload, dict):
        return "(no message)"
    message = str(payload.get("message", "(no message)")).replace("\n", " ")
    details = payload.get("errors")
    if isinstance(details, list) and details:
        parts = [
            d.get("message") or d.get("code") or str(d) if isinstance(d, dict) else str(d)
            for d in details
        ]
        message += ": " + "; ".join(str(p) for p in parts)
    return message


@dataclass(frozen=True)
class ApiChange:
    summary: str
    method: str
    path: str
    body: Any = None


@dataclass
class GitHubPlan:
    changes: list[ApiChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)


def q(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


class Planner:
    """Reads the repository's settings and lists the writes that bring them to the desired state."""

    def __init__(self, api: GitHub, config: Config) -> None:
        self.api = api
        self.config = config
        self.base = f"/repos/{q(config.owner)}/{q(config.name)}"
        self.plan = GitHubPlan()
        self.labels: list[str] = []

    def add(self, summary: str, method: str, path: str, body: Any = None) -> None:
        self.plan.changes.append(ApiChange(summary, method, self.base + path, body))

    def run(self) -> GitHubPlan:
        self.check_repository()
        reviewers = self.resolve_reviewers()
        self.actions()
        self.workflows()
        for env in ENVIRONMENTS:
            exists = self.environment(env, reviewers if env == REVIEWED_ENVIRONMENT else [])
            self.branch_policies(env, exists)
            self.environment_variables(env, exists)
        self.repository_variables()
        self.ruleset()
        return self.plan

    def check_repository(self) -> None:
        repo = self.api.get(self.base)
        if repo is None:
            raise ForkError(
                f"{self.config.repo} does not exist or the token cannot see it (GITHUB_TOKEN needs admin on it)"
            )
        full_name = str(repo.get("full_name", self.config.repo))
        if full_name != self.config.repo:
            # The OIDC subjects in the bootstrap's trust policies compare case-sensitively.
            raise ForkError(f"GitHub spells the repository {full_name}: use --repo {full_name}")
        if not repo.get("permissions", {}).get("admin"):
            raise ForkError(
                f"the token has no admin rights on {full_name} (needed for environments and rulesets)"
            )
        default_branch = repo.get("default_branch")
        if default_branch != DEPLOY_BRANCH:
            self.plan.notes.append(
                f"the default branch is {default_branch!r}: the workflows deploy from {DEPLOY_BRANCH!r}"
            )

    def resolve_reviewers(self) -> list[dict[str, Any]]:
        """The prod reviewers as GitHub ids ({"type", "id"}); their names go to self.labels."""
        reviewers: list[dict[str, Any]] = []
        names = list(self.config.reviewers)
        if self.config.solo and not names:
            me = self.api.call("GET", "/user")
            names.append(Reviewer("User", str(me["login"])))
        for reviewer in names:
            if reviewer.kind == "Team":
                org, _, slug = reviewer.name.partition("/")
                found = self.api.get(f"/orgs/{q(org)}/teams/{q(slug)}")
            else:
                found = self.api.get(f"/users/{q(reviewer.name)}")
            if found is None or not isinstance(found.get("id"), int):
                raise ForkError(f"reviewer {reviewer.name!r} does not exist on GitHub")
            if reviewer.kind == "User" and found.get("type") not in (None, "User"):
                raise ForkError(f"reviewer {reviewer.name!r} is an {found.get('type')}, not a user")
            entry = {"type": reviewer.kind, "id": found["id"]}
            if entry not in reviewers:
                reviewers.append(entry)
                self.labels.append(reviewer.name)
        if len(reviewers) > MAX_REVIEWERS:
            raise ForkError(
                f"an environment takes at most {MAX_REVIEWERS} reviewers, not {len(reviewers)}"
            )
        return reviewers

    def actions(self) -> None:
        current = self.api.call("GET", self.base + "/actions/permissions") or {}
        body: dict[str, Any] = {"enabled": True}
        if current.get("allowed_actions") == "local_only":
            body["allowed_actions"] = "all"  # the workflows use actions from the marketplace
        elif current.get("allowed_actions") == "selected":
            self.plan.notes.append(
                "Actions may run selected actions only: allow the ones .github/workflows pins"
            )
        if current.get("enabled") is not True or "allowed_actions" in body:
            self.add("enable GitHub Actions", "PUT", "/actions/permissions", body)
        token = self.api.call("GET", self.base + "/actions/permissions/workflow") or {}
        wanted = {"default_workflow_permissions": "read", "can_approve_pull_request_reviews": False}
        if any(token.get(key) != value for key, value in wanted.items()):
            self.add(
                "workflow token: read-only by default, may not approve pull requests",
                "PUT",
                "/actions/permissions/workflow",
                wanted,
            )

    def workflows(self) -> None:
        directory = self.config.root / WORKFLOW_DIR
        for path in sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")]):
            workflow = self.api.get(f"{self.base}/actions/workflows/{q(path.name)}")
            if workflow is None:
                self.plan.notes.append(
                    f"{WORKFLOW_DIR / path.name} is not on GitHub's default branch yet; run again after merging"
                )
            elif workflow.get("state") != "active":
                self.add(
                    f"enable workflow {path.name} (now {workflow.get('state')})",
                    "PUT",
                    f"/actions/workflows/{q(path.name)}/enable",
                )

    def environment(self, env: str, reviewers: list[dict[str, Any]]) -> bool:
        """Plan the environment's protection; whether it exists already."""
        prevent_self_review = bool(reviewers) and not self.config.solo
        body = {
            "wait_timer": 0,
            "prevent_self_review": prevent_self_review,
            "reviewers": reviewers or None,
            "deployment_branch_policy": {
                "protected_branches": False,
                "custom_branch_policies": True,
            },
        }
        current = self.api.get(f"{self.base}/environments/{q(env)}")
        if current is not None and environment_state(current) == environment_state_of_body(body):
            return True
        who = "no reviewers"
        if reviewers:
            allowed = "prevented" if prevent_self_review else "allowed"
            who = f"reviewers {', '.join(self.labels)}, self-review {allowed}"
        verb = "update" if current is not None else "create"
        self.add(
            f"{verb} environment {env}: {who}; deploys from {DEPLOY_BRANCH} only",
            "PUT",
            f"/environments/{q(env)}",
            body,
        )
        return current is not None

    def branch_policies(self, env: str, exists: bool) -> None:
        path = f"/environments/{q(env)}/deployment-branch-policies"
        current = (self.api.get_all(self.base + path, "branch_policies") or []) if exists else []
        keep = False
        for policy in current:
            if (
                policy.get("name") == DEPLOY_BRANCH
                and policy.get("type", "branch") == "branch"
                and not keep
            ):
                keep = True
                continue
            self.add(
                f"environment {env}: remove deployment branch policy {policy.get('name')!r}",
                "DELETE",
                f"{path}/{int(policy['id'])}",
            )
        if not keep:
            self.add(
                f"environment {env}: deploy from branch {DEPLOY_BRANCH} only",
                "POST",
                path,
                {"name": DEPLOY_BRANCH, "type": "branch"},
            )

    def variables_wanted(self, env: str | None) -> dict[str, str | None]:
        outputs = self.config.outputs
        if env is None:
            return {
                "AWS_REGION": self.config.region,
                "AWS_PLAN_ROLE_ARN": outputs.plan_role_arn if outputs else None,
            }
        return {"AWS_APPLY_ROLE_ARN": outputs.apply_role_arns[env] if outputs else None}

    def set_variables(
        self, prefix: str, label: str, wanted: Mapping[str, str | None], exists: bool
    ) -> None:
        for name, value in wanted.items():
            if value is None:
                self.plan.pending.append(f"{label} variable {name}")
                continue
            current = self.api.get(f"{self.base}{prefix}/variables/{q(name)}") if exists else None
            if current is None:
                self.add(
                    f"{label} variable {name} = {value}",
                    "POST",
                    f"{prefix}/variables",
                    {"name": name, "value": value},
                )
            elif current.get("value") != value:
                self.add(
                    f"{label} variable {name}: {current.get('value')} -> {value}",
                    "PATCH",
                    f"{prefix}/variables/{q(name)}",
                    {"name": name, "value": value},
                )

    def environment_variables(self, env: str, exists: bool) -> None:
        self.set_variables(
            f"/environments/{q(env)}", f"environment {env}", self.variables_wanted(env), exists
        )

    def repository_variables(self) -> None:
        self.set_variables("/actions", "repository", self.variables_wanted(None), True)

    def ruleset_body(self) -> dict[str, Any]:
        solo = self.config.solo
        return {
            "name": RULESET_NAME,
            "target": "branch",
            "enforcement": "active",
            "bypass_actors": [],
            "conditions": {"ref_name": {"include": [f"refs/heads/{DEPLOY_BRANCH}"], "exclude": []}},
            "rules": [
                {"type": "deletion"},
                {"type": "non_fast_forward"},
                {
                    "type": "pull_request",
                    "parameters": {
                        "required_approving_review_count": 0 if solo else 1,
                        "dismiss_stale_reviews_on_push": True,
                        "require_code_owner_review": not solo,
                        "require_last_push_approval": False,
                        "required_review_thread_resolution": False,
                    },
                },
                {
                    "type": "required_status_checks",
                    "parameters": {
                        "strict_required_status_checks_policy": False,
                        "required_status_checks": [
                            {"context": check, "integration_id": ACTIONS_APP_ID}
                            for check in self.config.required_checks()
                        ],
                    },
                },
            ],
        }

    def ruleset(self) -> None:
        body = self.ruleset_body()
        listed = (
            self.api.get_all(self.base + "/rulesets", None, {"includes_parents": "false"}) or []
        )
        ours = [
            r
            for r in listed
            if r.get("name") == RULESET_NAME and r.get("source_type", "Repository") == "Repository"
        ]
        checks = ", ".join(self.config.required_checks())
        what = f"ruleset {RULESET_NAME!r} on {DEPLOY_BRANCH}: pull requests, checks {checks}; no force push or deletion"
        if not ours:
            self.add(f"create {what}", "POST", "/rulesets", body)
            return
        ruleset_id = int(ours[0]["id"])
        current = self.api.call("GET", f"{self.base}/rulesets/{ruleset_id}")
        if not ruleset_matches(current, body):
            self.add(f"update {what}", "PUT", f"/rulesets/{ruleset_id}", body)


def environment_state(env: Mapping[str, Any]) -> tuple[Any, ...]:
    """The settings this script manages, as GitHub reports them on GET."""
    rules = env.get("protection_rules") or []
    wait = next((r.get("wait_timer", 0) for r in rules if r.get("type") == "wait_timer"), 0)
    review = next((r for r in rules if r.get("type") == "required_reviewers"), None)
    reviewers = sorted(
        (str(item.get("type")), int(item.get("reviewer", {}).get("id", 0)))
        for item in (review or {}).get("reviewers") or []
    )
    prevent = bool((review or {}).get("prevent_self_review", False)) if reviewers else False
    policy = env.get("deployment_branch_policy")
    return wait, tuple(reviewers), prevent, json.dumps(policy, sort_keys=True)


def environment_state_of_body(body: Mapping[str, Any]) -> tuple[Any, ...]:
    reviewers = sorted((str(r["type"]), int(r["id"])) for r in body.get("reviewers") or [])
    prevent = bool(body.get("prevent_self_review")) if reviewers else False
    policy = body.get("deployment_branch_policy")
    return body.get("wait_timer", 0), tuple(reviewers), prevent, json.dumps(policy, sort_keys=True)


def ruleset_matches(current: Any, wanted: Mapping[str, Any]) -> bool:
    """Whether the ruleset GitHub returns already holds every setting of `wanted`.

    GitHub fills in defaults for parameters that were not sent (allowed merge methods, ...):
    those are not compared; the rules themselves, and every parameter sent, are.
    """
    if not isinstance(current, dict):
        return False
    compared = {str(rule["type"]): rule.get("parameters") or {} for rule in wanted["rules"]}
    return ruleset_view(current, compared) == ruleset_view(wanted, compared)


def ruleset_view(ruleset: Mapping[str, Any], compared: Mapping[str, Any]) -> tuple[Any, ...]:
    ref = (ruleset.get("conditions") or {}).get("ref_name") or {}
    rules = []
    for rule in ruleset.get("rules") or []:
        kind = str(rule.get("type"))
        parameters = rule.get("parameters") or {}
        kept = {key: parameters.get(key) for key in compared.get(kind, {})}
        if "required_status_checks" in kept:
            kept["required_status_checks"] = canonical(kept["required_status_checks"] or [])
        rules.append(json.dumps([kind, kept], sort_keys=True))
    return (
        ruleset.get("name"),
        ruleset.get("target"),
        ruleset.get("enforcement"),
        sorted(ref.get("include") or []),
        sorted(ref.get("exclude") or []),
        canonical(ruleset.get("bypass_actors") or []),
        sorted(rules),
    )


def canonical(items: Sequence[Any]) -> list[str]:
    return sorted(json.dumps(item, sort_keys=True) for item in items)


# ---- Output and the command line ---------------------------------------------------------------------


def print_plan(
    config: Config, files: list[FileChange], github: GitHubPlan | None, notes: list[str]
) -> None:
    if config.files:
        print("Files:")
        if not files:
            print("  (every FORK value is already set)")
        for change in files:
            print(f"  ~ {change.path.as_posix()}")
            for line in change.diff()[2:]:
                print(f"      {line}")
    if github is not None:
        print(f"GitHub {config.repo} ({config.api_url}):")
        if not github.changes:
            print("  (already configured)")
        for api in github.changes:
            print(f"  + {api.summary}")
            body = "" if api.body is None else " " + json.dumps(api.body, sort_keys=True)
            print(f"      {api.method} {api.path}{body}")
        if github.pending:
            print(
                "Waiting for the bootstrap outputs (--bootstrap-outputs FILE or --bootstrap-from-terraform):"
            )
            for item in github.pending:
                print(f"  - {item}")
    for note in notes + (github.notes if github else []):
        print(f"Note: {note}")


def apply(
    config: Config, api: GitHub | None, files: list[FileChange], github: GitHubPlan | None
) -> None:
    for change in files:
        (config.root / change.path).write_bytes(change.after.encode("utf-8"))
    if api is not None and github is not None:
        for done, call in enumerate(github.changes):
            try:
                api.call(call.method, call.path, call.body)
            except ForkError as error:
                total = len(github.changes)
                raise ForkError(
                    f"{error} ({done} of {total} API calls made; run again to finish)"
                ) from None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (--help for usage)\n")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = _Parser(
        prog="fork",
        description="Set every FORK value from the AWS account, region and the bootstrap outputs, "
        "and configure the GitHub repository (environments, variables, ruleset, Actions).",
    )
    parser.add_argument("--account-id", required=True, help="the AWS account (12 digits)")
    parser.add_argument("--region", required=True, help="the AWS region, e.g. eu-west-1")
    parser.add_argument("--repo", required=True, metavar="OWNER/NAME", help="the fork on GitHub")
    outputs = parser.add_mutually_exclusive_group()
    outputs.add_argument(
        "--bootstrap-outputs",
        metavar="FILE",
        help="`terraform -chdir=environments/bootstrap output -json` saved in FILE ('-': stdin)",
    )
    outputs.add_argument(
        "--bootstrap-from-terraform",
        action="store_true",
        help="run that command here (needs the bootstrap's state; $TERRAFORM_BIN overrides terraform)",
    )
    parser.add_argument(
        "--reviewer",
        action="append",
        default=[],
        metavar="LOGIN|ORG/TEAM",
        help="who approves prod deployments (repeatable, at most 6)",
    )
    parser.add_argument(
        "--solo",
        action="store_true",
        help="a one-person fork: the token's user reviews prod (unless --reviewer) and may approve "
        "their own deployments (prevent_self_review false); pull requests need no approval",
    )
    parser.add_argument("--alarm-email", help="subscribe this address to both environments' alarms")
    parser.add_argument(
        "--existing-oidc-provider",
        action="store_true",
        help="the account already has GitHub's OIDC provider: bootstrap uses it instead of creating one",
    )
    parser.add_argument(
        "--require-plan-checks",
        action="store_true",
        help="also require the Plan dev/Plan prod checks (they do not run on pull requests that "
        "touch no planned path, which then cannot merge)",
    )
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--files-only", action="store_true", help="write the files; no GitHub calls")
    scope.add_argument(
        "--github-only", action="store_true", help="configure GitHub; no file changes"
    )
    parser.add_argument("--dry-run", action="store_true", help="print every change, make none")
    parser.add_argument(
        "--api-url",
        default=os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL,
        help=f"GitHub's REST API (default $GITHUB_API_URL or {DEFAULT_API_URL})",
    )
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="the repository checkout (default: this one)"
    )
    return parser.parse_args(argv)


def make_config(args: argparse.Namespace) -> Config:
    if not ACCOUNT_ID.match(args.account_id):
        raise ForkError(f"--account-id must be 12 digits, not {args.account_id!r}")
    if not REGION.match(args.region):
        raise ForkError(
            f"--region must be an AWS region code such as eu-west-1, not {args.region!r}"
        )
    owner, slash, name = args.repo.partition("/")
    if (
        not slash
        or not OWNER.match(owner)
        or not REPO_NAME.match(name)
        or name in {".", ".."}
        or name.endswith(".git")
    ):
        raise ForkError(f"--repo must be OWNER/NAME as on GitHub, not {args.repo!r}")
    if args.alarm_email is not None and not EMAIL.match(args.alarm_email):
        raise ForkError(f"--alarm-email {args.alarm_email!r} is not an e-mail address")
    reviewers = tuple(Reviewer.parse(text) for text in args.reviewer)
    github = not args.files_only
    if github and not reviewers and not args.solo:
        raise ForkError(
            "prod needs a reviewer: --reviewer LOGIN or ORG/TEAM (repeatable), or --solo"
        )
    api_url = str(args.api_url)
    if not re.match(r"^https?://[^\s/]+", api_url):
        raise ForkError(f"--api-url must be an http(s) URL, not {api_url!r}")
    root = Path(args.root).resolve()
    if not (root / "environments").is_dir():
        raise ForkError(f"{root} is not a checkout of this repository (no environments/)")
    outputs = load_outputs(args.bootstrap_outputs, args.bootstrap_from_terraform, root)
    if outputs is not None:
        others = outputs.accounts() - {args.account_id}
        if others:
            raise ForkError(
                f"the bootstrap outputs are for account {', '.join(sorted(others))}, not {args.account_id}"
            )
        if outputs.backend_region not in (None, args.region):
            raise ForkError(
                f"the bootstrap outputs are for region {outputs.backend_region}, not {args.region}"
            )
        if not BUCKET.match(outputs.state_bucket):
            raise ForkError(
                f"the bootstrap's state_bucket {outputs.state_bucket!r} is not a bucket name"
            )
    return Config(
        account_id=args.account_id,
        region=args.region,
        owner=owner,
        name=name,
        outputs=outputs,
        reviewers=reviewers,
        solo=bool(args.solo),
        alarm_email=args.alarm_email,
        existing_oidc_provider=bool(args.existing_oidc_provider),
        require_plan_checks=bool(args.require_plan_checks),
        files=not args.github_only,
        github=github,
        dry_run=bool(args.dry_run),
        api_url=api_url.rstrip("/"),
        root=root,
    )


def run(config: Config) -> None:
    api: GitHub | None = None
    if config.github:
        token = os.environ.get("GITHUB_TOKEN", "").strip()
        if not token:
            raise ForkError(
                f"GITHUB_TOKEN is not set: a token with admin rights on {config.repo} "
                "(e.g. GITHUB_TOKEN=$(gh auth token)), or --files-only"
            )
        api = GitHub(config.api_url, token)
    files, notes = plan_files(config) if config.files else ([], [])
    if not BUCKET.match(state_bucket(config)) and config.files:
        raise ForkError(f"the state bucket name {state_bucket(config)!r} is not valid for S3")
    github = Planner(api, config).run() if api is not None else None
    print(f"fork: {config.repo} in AWS account {config.account_id}, {config.region}")
    print_plan(config, files, github, notes)
    calls = len(github.changes) if github else 0
    if not files and not calls:
        print("Nothing to change.")
        return
    counts = f"{len(files)} file(s), {calls} API call(s)"
    if config.dry_run:
        print(f"Dry run: {counts} would change; nothing was changed.")
        return
    apply(config, api, files, github)
    print(f"Done: {counts} changed.")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        run(make_config(args))
    except ForkError as error:
        print(f"fork: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("fork: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
