"""A strict, stateful stand-in for the part of GitHub's REST API that scripts/fork.py uses.

It listens on 127.0.0.1 and behaves as GitHub's REST reference (API version 2022-11-28)
describes each endpoint: the same paths, methods, status codes and answer shapes. It is stricter
than GitHub where GitHub is lenient, so a client that passes here sends what the reference
documents and nothing else:

- every request needs ``Authorization: Bearer <token>`` (or ``token <token>``) with the right
  token (401 otherwise), ``Accept: application/vnd.github+json``,
  ``X-GitHub-Api-Version: 2022-11-28`` and a ``User-Agent`` (403 without one, as GitHub);
- a body is accepted only where the endpoint takes one, as ``application/json``, and is checked
  against the endpoint's JSON schema: required fields, types, enums, ranges and no unknown fields
  (422 ``Invalid request.`` with the reasons); endpoints without a body refuse one (400);
- unknown query parameters are refused (422), ``per_page`` is at most 100, and lists are paginated
  with a ``Link: <...>; rel="next"`` header;
- GitHub's semantic rules: exactly one of ``protected_branches`` / ``custom_branch_policies``,
  reviewers that exist, branch policies only on an environment with custom policies (404), a
  variable created twice (409), a ruleset name used twice (422), one rule of each type.

Every request is recorded (``requests``); refused ones (anything but a 404 on a read) also in
``rejections``.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from scripts.harness import LocalHTTP, QuietHandler

API_VERSION = "2022-11-28"
ACTIONS_APP_ID = 15368


# ---- Request bodies, as GitHub's REST reference documents them -------------------------------------


def obj(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


STRING = {"type": "string"}
BOOLEAN = {"type": "boolean"}

# PUT /repos/{owner}/{repo}/environments/{environment_name}
ENVIRONMENT = obj(
    {
        "wait_timer": {"type": "integer", "minimum": 0, "maximum": 43200},
        "prevent_self_review": BOOLEAN,
        "reviewers": {
            "type": ["array", "null"],
            "maxItems": 6,
            "items": obj({"type": {"enum": ["User", "Team"]}, "id": {"type": "integer"}}),
        },
        "deployment_branch_policy": {
            "type": ["object", "null"],
            "properties": {"protected_branches": BOOLEAN, "custom_branch_policies": BOOLEAN},
            "required": ["protected_branches", "custom_branch_policies"],
            "additionalProperties": False,
        },
    }
)
# POST /repos/{owner}/{repo}/environments/{environment_name}/deployment-branch-policies
BRANCH_POLICY = obj({"name": STRING, "type": {"enum": ["branch", "tag"]}}, ("name",))
# POST .../actions/variables and .../environments/{environment_name}/variables
VARIABLE_CREATE = obj({"name": STRING, "value": STRING}, ("name", "value"))
# PATCH .../actions/variables/{name} and .../environments/{environment_name}/variables/{name}
VARIABLE_UPDATE = obj({"name": STRING, "value": STRING})
# PUT /repos/{owner}/{repo}/actions/permissions
ACTIONS_PERMISSIONS = obj(
    {
        "enabled": BOOLEAN,
        "allowed_actions": {"enum": ["all", "local_only", "selected"]},
        "sha_pinning_required": BOOLEAN,
    },
    ("enabled",),
)
# PUT /repos/{owner}/{repo}/actions/permissions/workflow
WORKFLOW_PERMISSIONS = obj(
    {
        "default_workflow_permissions": {"enum": ["read", "write"]},
        "can_approve_pull_request_reviews": BOOLEAN,
    }
)


def rule(kind: str, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    properties: dict[str, Any] = {"type": {"const": kind}}
    if parameters is not None:
        properties["parameters"] = parameters
    return obj(properties, ("type",))


PULL_REQUEST_PARAMETERS = obj(
    {
        "allowed_merge_methods": {
            "type": "array",
            "items": {"enum": ["merge", "squash", "rebase"]},
        },
        "automatic_copilot_code_review_enabled": BOOLEAN,
        "dismiss_stale_reviews_on_push": BOOLEAN,
        "require_code_owner_review": BOOLEAN,
        "require_last_push_approval": BOOLEAN,
        "required_approving_review_count": {"type": "integer", "minimum": 0, "maximum": 10},
        "required_review_thread_resolution": BOOLEAN,
    },
    (
        "dismiss_stale_reviews_on_push",
        "require_code_owner_review",
        "require_last_push_approval",
        "required_approving_review_count",
        "required_review_thread_resolution",
    ),
)
STATUS_CHECKS_PARAMETERS = obj(
    {
        "do_not_enforce_on_create": BOOLEAN,
        "required_status_checks": {
            "type": "array",
            "items": obj(
                {
                    "context": {"type": "string", "minLength": 1},
                    "integration_id": {"type": "integer"},
                },
                ("context",),
            ),
        },
        "strict_required_status_checks_policy": BOOLEAN,
    },
    ("required_status_checks", "strict_required_status_checks_policy"),
)
RULE = {
    "oneOf": [
        *(
            rule(kind)
            for kind in (
                "creation",
                "deletion",
                "required_linear_history",
                "required_signatures",
                "non_fast_forward",
            )
        ),
        rule(
            "update",
            obj({"update_allows_fetch_and_merge": BOOLEAN}, ("update_allows_fetch_and_merge",)),
        ),
        rule("pull_request", PULL_REQUEST_PARAMETERS),
        rule("required_status_checks", STATUS_CHECKS_PARAMETERS),
    ]
}
RULESET_FIELDS: dict[str, Any] = {
    "name": STRING,
    "target": {"enum": ["branch", "tag", "push"]},
    "enforcement": {"enum": ["disabled", "active", "evaluate"]},
    "bypass_actors": {
        "type": "array",
        "items": obj(
            {
                "actor_id": {"type": ["integer", "null"]},
                "actor_type": {
                    "enum": [
                        "Integration",
                        "OrganizationAdmin",
                        "RepositoryRole",
                        "Team",
                        "DeployKey",
                    ]
                },
                "bypass_mode": {"enum": ["always", "pull_request", "exempt"]},
            },
            ("actor_type",),
        ),
    },
    "conditions": obj(
        {
            "ref_name": obj(
                {
                    "include": {"type": "array", "items": STRING},
                    "exclude": {"type": "array", "items": STRING},
                }
            )
        }
    ),
    "rules": {"type": "array", "items": RULE},
}
# POST /repos/{owner}/{repo}/rulesets and PUT /repos/{owner}/{repo}/rulesets/{ruleset_id}
RULESET_CREATE = obj(RULESET_FIELDS, ("name", "enforcement"))
RULESET_UPDATE = obj(RULESET_FIELDS)

VARIABLE_NAME = re.compile(r"^(?!GITHUB_)[A-Za-z_][A-Za-z0-9_]*$", re.IGNORECASE)


class Reply(Exception):
    """An answer other than success, raised from a handler."""

    def __init__(self, status: int, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or []


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int = 0


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Callable[..., tuple[int, Any]]
    schema: dict[str, Any] | None = None
    body_optional: bool = False
    query: tuple[str, ...] = ()


@dataclass
class Environment:
    id: int
    name: str
    wait_timer: int = 0
    prevent_self_review: bool = False
    reviewers: list[dict[str, Any]] = field(default_factory=list)
    branch_policy: dict[str, bool] | None = None
    policies: list[dict[str, Any]] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)


class FakeGitHub(LocalHTTP):
    """One repository, its owner's account, some users and teams; see the module docstring."""

    def __init__(
        self,
        owner: str,
        name: str,
        token: str,
        *,
        users: dict[str, int] | None = None,
        teams: dict[str, int] | None = None,
        me: str = "me",
        workflows: tuple[str, ...] = (),
        workflow_state: str = "disabled_fork",
        admin: bool = True,
        default_branch: str = "main",
    ) -> None:
        self.owner, self.name, self.token, self.me = owner, name, token, me
        self.users = {"me": 1001, **(users or {})}
        self.teams = dict(teams or {})  # "org/slug" -> id
        self.admin = admin
        self.default_branch = default_branch
        self.actions: dict[str, Any] = {"enabled": False}
        self.workflow_permissions: dict[str, Any] = {
            "default_workflow_permissions": "write",
            "can_approve_pull_request_reviews": True,
        }
        self.workflows = {
            file: {"id": 9000 + index, "state": workflow_state}
            for index, file in enumerate(workflows)
        }
        self.environments: dict[str, Environment] = {}
        self.variables: dict[str, str] = {}
        self.rulesets: dict[int, dict[str, Any]] = {}
        self.requests: list[Recorded] = []
        self.rejections: list[tuple[Recorded, str]] = []
        self.fail: tuple[str, str, int] | None = None  # (method, path regex, status)
        self._ids = itertools.count(50_000)
        self._lock = threading.Lock()
        self.routes = self._routes()
        super().__init__(self._handler())

    # -- lifecycle and inspection ------------------------------------------------------------------

    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.method != "GET"]

    def clear(self) -> None:
        self.requests.clear()
        self.rejections.clear()

    def new_id(self) -> int:
        return next(self._ids)

    # -- routing -----------------------------------------------------------------------------------

    def _routes(self) -> list[Route]:
        repo = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
        env = repo + r"/environments/(?P<env>[^/]+)"

        def route(
            method: str, path: str, handler: Callable[..., tuple[int, Any]], **kw: Any
        ) -> Route:
            return Route(method, re.compile(f"^{path}$"), handler, **kw)

        page = ("per_page", "page")
        return [
            route("GET", "/user", self.get_me),
            route("GET", r"/users/(?P<login>[^/]+)", self.get_user),
            route("GET", r"/orgs/(?P<org>[^/]+)/teams/(?P<slug>[^/]+)", self.get_team),
            route("GET", repo, self.get_repo),
            route("GET", repo + "/actions/permissions", self.get_actions),
            route(
                "PUT", repo + "/actions/permissions", self.put_actions, schema=ACTIONS_PERMISSIONS
            ),
            route("GET", repo + "/actions/permissions/workflow", self.get_workflow_permissions),
            route(
                "PUT",
                repo + "/actions/permissions/workflow",
                self.put_workflow_permissions,
                schema=WORKFLOW_PERMISSIONS,
            ),
            route("GET", repo + r"/actions/workflows/(?P<workflow>[^/]+)", self.get_workflow),
            route(
                "PUT", repo + r"/actions/workflows/(?P<workflow>[^/]+)/enable", self.enable_workflow
            ),
            route("GET", env, self.get_environment),
            route("PUT", env, self.put_environment, schema=ENVIRONMENT, body_optional=True),
            route("GET", env + "/deployment-branch-policies", self.list_policies, query=page),
            route(
                "POST",
                env + "/deployment-branch-policies",
                self.create_policy,
                schema=BRANCH_POLICY,
            ),
            route(
                "DELETE", env + r"/deployment-branch-policies/(?P<policy>\d+)", self.delete_policy
            ),
            route("GET", repo + r"/actions/variables/(?P<name>[^/]+)", self.get_variable),
            route(
                "POST", repo + "/actions/variables", self.create_variable, schema=VARIABLE_CREATE
            ),
            route(
                "PATCH",
                repo + r"/actions/variables/(?P<name>[^/]+)",
                self.update_variable,
                schema=VARIABLE_UPDATE,
            ),
            route("GET", env + r"/variables/(?P<name>[^/]+)", self.get_variable),
            route("POST", env + "/variables", self.create_variable, schema=VARIABLE_CREATE),
            route(
                "PATCH",
                env + r"/variables/(?P<name>[^/]+)",
                self.update_variable,
                schema=VARIABLE_UPDATE,
            ),
            route(
                "GET",
                repo + "/rulesets",
                self.list_rulesets,
                query=(*page, "includes_parents", "targets"),
            ),
            route("POST", repo + "/rulesets", self.create_ruleset, schema=RULESET_CREATE),
            route("GET", repo + r"/rulesets/(?P<ruleset>\d+)", self.get_ruleset),
            route(
                "PUT",
                repo + r"/rulesets/(?P<ruleset>\d+)",
                self.update_ruleset,
                schema=RULESET_UPDATE,
            ),
        ]

    def dispatch(
        self, method: str, target: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        record = Recorded(method, parts.path, query, None)
        self.requests.append(record)
        extra: dict[str, str] = {}
        try:
            self.check_headers(headers)
            route, params = self.match(method, parts.path)
            record.body = self.check_body(route, headers, raw)
            self.check_query(route, query)
            if self.fail and self.fail[0] == method and re.search(self.fail[1], parts.path):
                raise Reply(self.fail[2], "Server Error")
            with self._lock:
                status, payload = route.handler(record, **params)
            if isinstance(payload, Paged):
                payload, extra = payload.page(target, query)
        except Reply as reply:
            status = reply.status
            payload = {
                "message": reply.message,
                "documentation_url": "https://docs.github.com/rest",
                "status": str(reply.status),
            }
            if reply.errors:
                payload["errors"] = reply.errors
            if not (method == "GET" and reply.status == 404):  # a read of something absent is fine
                self.rejections.append((record, f"{reply.status} {reply.message} {reply.errors}"))
        record.status = status
        return status, payload, extra

    def check_headers(self, headers: dict[str, str]) -> None:
        if not headers.get("user-agent"):
            raise Reply(
                403,
                "Request forbidden by administrative rules. Please make sure your request has a User-Agent header",
            )
        if headers.get("authorization") not in (f"Bearer {self.token}", f"token {self.token}"):
            raise Reply(401, "Bad credentials")
        if headers.get("accept") != "application/vnd.github+json":
            raise Reply(415, "Accept must be application/vnd.github+json")
        if headers.get("x-github-api-version") != API_VERSION:
            raise Reply(400, f"X-GitHub-Api-Version must be {API_VERSION}")

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        for route in self.routes:
            found = route.pattern.match(path)
            if found and route.method == method:
                params = {k: unquote(v) for k, v in found.groupdict().items()}
                if "owner" in params:
                    # GitHub resolves owner and repository names whatever their case.
                    wanted = (self.owner.lower(), self.name.lower())
                    if (params.pop("owner").lower(), params.pop("repo").lower()) != wanted:
                        raise Reply(404, "Not Found")
                return route, params
        raise Reply(404, "Not Found")

    def check_body(self, route: Route, headers: dict[str, str], raw: bytes) -> Any:
        if route.schema is None:
            if raw:
                raise Reply(400, f"{route.method} takes no body here")
            return None
        if not raw:
            if route.body_optional:
                return {}
            raise Reply(400, "Problems parsing JSON")
        if headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise Reply(415, "Content-Type must be application/json")
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            raise Reply(400, "Problems parsing JSON") from None
        errors = sorted(
            f"{'/'.join(str(p) for p in error.absolute_path) or '(body)'}: {error.message}"
            for error in Draft202012Validator(route.schema).iter_errors(body)
        )
        if errors:
            raise Reply(422, "Invalid request.", errors)
        return body

    @staticmethod
    def check_query(route: Route, query: dict[str, list[str]]) -> None:
        unknown = sorted(set(query) - set(route.query))
        if unknown:
            raise Reply(422, f"unknown query parameter(s) {unknown}")
        per_page = query.get("per_page", ["30"])[-1]
        if not per_page.isdigit() or not 1 <= int(per_page) <= 100:
            raise Reply(422, "per_page must be 1..100")
        if not query.get("page", ["1"])[-1].isdigit():
            raise Reply(422, "page must be a number")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(QuietHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, payload, extra = fake.dispatch(self.command, self.path, headers, raw)
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                for key, value in extra.items():
                    self.send_header(key, value)
                if data:
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _serve

        return Handler

    # -- users, repository, Actions ----------------------------------------------------------------

    def user(self, login: str) -> dict[str, Any]:
        return {
            "login": login,
            "id": self.users[login],
            "node_id": f"U_{login}",
            "type": "User",
            "site_admin": False,
        }

    def get_me(self, _: Recorded) -> tuple[int, Any]:
        return 200, self.user(self.me)

    def get_user(self, _: Recorded, login: str) -> tuple[int, Any]:
        match = next((name for name in self.users if name.lower() == login.lower()), None)
        if match is None:
            raise Reply(404, "Not Found")
        return 200, self.user(match)

    def get_team(self, _: Recorded, org: str, slug: str) -> tuple[int, Any]:
        key = f"{org}/{slug}"
        if key not in self.teams:
            raise Reply(404, "Not Found")
        return 200, {"id": self.teams[key], "slug": slug, "name": slug, "privacy": "closed"}

    def get_repo(self, _: Recorded) -> tuple[int, Any]:
        return 200, {
            "id": 4242,
            "name": self.name,
            "full_name": f"{self.owner}/{self.name}",
            "owner": self.user(self.me) | {"login": self.owner},
            "private": False,
            "fork": True,
            "default_branch": self.default_branch,
            "permissions": {
                "admin": self.admin,
                "maintain": self.admin,
                "push": True,
                "triage": True,
                "pull": True,
            },
        }

    def get_actions(self, _: Recorded) -> tuple[int, Any]:
        return 200, dict(self.actions)

    def put_actions(self, record: Recorded) -> tuple[int, Any]:
        body = record.body
        self.actions["enabled"] = body["enabled"]
        if body["enabled"]:
            self.actions["allowed_actions"] = body.get(
                "allowed_actions", self.actions.get("allowed_actions", "all")
            )
            self.actions.setdefault("sha_pinning_required", False)
        else:
            self.actions = {"enabled": False}
        return 204, None

    def get_workflow_permissions(self, _: Recorded) -> tuple[int, Any]:
        return 200, dict(self.workflow_permissions)

    def put_workflow_permissions(self, record: Recorded) -> tuple[int, Any]:
        self.workflow_permissions.update(record.body)
        return 204, None

    def find_workflow(self, workflow: str) -> dict[str, Any]:
        for file, entry in self.workflows.items():
            if workflow in (file, str(entry["id"])):
                return entry | {"file": file}
        raise Reply(404, "Not Found")

    def get_workflow(self, _: Recorded, workflow: str) -> tuple[int, Any]:
        entry = self.find_workflow(workflow)
        return 200, {
            "id": entry["id"],
            "node_id": f"W_{entry['id']}",
            "name": entry["file"],
            "path": f".github/workflows/{entry['file']}",
            "state": entry["state"],
        }

    def enable_workflow(self, _: Recorded, workflow: str) -> tuple[int, Any]:
        entry = self.find_workflow(workflow)
        self.workflows[entry["file"]]["state"] = "active"
        return 204, None

    # -- environments ------------------------------------------------------------------------------

    def env(self, name: str) -> Environment:
        if name not in self.environments:
            raise Reply(404, "Not Found")
        return self.environments[name]

    def environment_json(self, env: Environment) -> dict[str, Any]:
        rules: list[dict[str, Any]] = []
        if env.wait_timer:
            rules.append(
                {"id": 1, "node_id": "G1", "type": "wait_timer", "wait_timer": env.wait_timer}
            )
        if env.reviewers:
            rules.append(
                {
                    "id": 2,
                    "node_id": "G2",
                    "prevent_self_review": env.prevent_self_review,
                    "type": "required_reviewers",
                    "reviewers": [
                        {
                            "type": r["type"],
                            "reviewer": (
                                self.user(next(k for k, v in self.users.items() if v == r["id"]))
                                if r["type"] == "User"
                                else {
                                    "id": r["id"],
                                    "slug": next(
                                        k for k, v in self.teams.items() if v == r["id"]
                                    ).split("/")[1],
                                }
                            ),
                        }
                        for r in env.reviewers
                    ],
                }
            )
        if env.branch_policy is not None:
            rules.append({"id": 3, "node_id": "G3", "type": "branch_policy"})
        return {
            "id": env.id,
            "node_id": f"E_{env.id}",
            "name": env.name,
            "url": f"https://api.github.com/repos/{self.owner}/{self.name}/environments/{env.name}",
            "html_url": f"https://github.com/{self.owner}/{self.name}/deployments/activity_log?environments_filter={env.name}",
            "created_at": "2026-11-30T00:00:00Z",
            "updated_at": "2026-11-30T00:00:00Z",
            "protection_rules": rules,
            "deployment_branch_policy": env.branch_policy,
        }

    def get_environment(self, _: Recorded, env: str) -> tuple[int, Any]:
        return 200, self.environment_json(self.env(env))

    def put_environment(self, record: Recorded, env: str) -> tuple[int, Any]:
        body = record.body
        policy = body.get("deployment_branch_policy")
        if policy is not None and policy["protected_branches"] == policy["custom_branch_policies"]:
            raise Reply(
                422, "Exactly one of protected_branches and custom_branch_policies must be true"
            )
        reviewers = body.get("reviewers")
        for reviewer in reviewers or []:
            known = self.users if reviewer.get("type") == "User" else self.teams
            if (
                "type" not in reviewer
                or "id" not in reviewer
                or reviewer["id"] not in known.values()
            ):
                raise Reply(
                    422, f"reviewer {reviewer} is not a user or team with access to the repository"
                )
        current = self.environments.get(env) or Environment(self.new_id(), env)
        if "wait_timer" in body:
            current.wait_timer = body["wait_timer"]
        if "prevent_self_review" in body:
            current.prevent_self_review = body["prevent_self_review"]
        if "reviewers" in body:
            current.reviewers = [dict(r) for r in reviewers or []]
        if "deployment_branch_policy" in body:
            current.branch_policy = dict(policy) if policy is not None else None
            if policy is None or not policy["custom_branch_policies"]:
                current.policies = []
        self.environments[env] = current
        return 200, self.environment_json(current)

    def list_policies(self, _: Recorded, env: str) -> tuple[int, Any]:
        policies = self.env(env).policies
        return 200, Paged(
            policies, lambda items: {"total_count": len(policies), "branch_policies": items}
        )

    def create_policy(self, record: Recorded, env: str) -> tuple[int, Any]:
        current = self.env(env)
        if not (current.branch_policy or {}).get("custom_branch_policies"):
            raise Reply(404, "Not Found")  # as GitHub: custom branch policies are off
        body = record.body
        kind = body.get("type", "branch")
        if any(p["name"] == body["name"] and p["type"] == kind for p in current.policies):
            raise Reply(303, "See Other")  # GitHub: the same name pattern exists
        policy = {"id": self.new_id(), "node_id": "P", "name": body["name"], "type": kind}
        current.policies.append(policy)
        return 200, policy

    def delete_policy(self, _: Recorded, env: str, policy: str) -> tuple[int, Any]:
        current = self.env(env)
        before = len(current.policies)
        current.policies = [p for p in current.policies if p["id"] != int(policy)]
        if len(current.policies) == before:
            raise Reply(404, "Not Found")
        return 204, None

    # -- variables ---------------------------------------------------------------------------------

    def store(self, env: str | None) -> dict[str, str]:
        return self.env(env).variables if env is not None else self.variables

    def get_variable(self, _: Recorded, name: str, env: str | None = None) -> tuple[int, Any]:
        variables = self.store(env)
        if name not in variables:
            raise Reply(404, "Not Found")
        return 200, {
            "name": name,
            "value": variables[name],
            "created_at": "2026-11-30T00:00:00Z",
            "updated_at": "2026-11-30T00:00:00Z",
        }

    def create_variable(self, record: Recorded, env: str | None = None) -> tuple[int, Any]:
        variables = self.store(env)
        name = record.body["name"]
        if not VARIABLE_NAME.match(name):
            raise Reply(422, f"invalid variable name {name!r}")
        if name.upper() in variables:
            raise Reply(409, "Already exists")
        variables[name.upper()] = record.body["value"]
        return 201, {}

    def update_variable(
        self, record: Recorded, name: str, env: str | None = None
    ) -> tuple[int, Any]:
        variables = self.store(env)
        if name not in variables:
            raise Reply(404, "Not Found")
        new_name = record.body.get("name", name).upper()
        if not VARIABLE_NAME.match(new_name):
            raise Reply(422, f"invalid variable name {new_name!r}")
        value = record.body.get("value", variables[name])
        del variables[name]
        variables[new_name] = value
        return 204, None

    # -- rulesets ----------------------------------------------------------------------------------

    def ruleset_json(self, ruleset_id: int, summary: bool = False) -> dict[str, Any]:
        stored = self.rulesets[ruleset_id]
        head = {
            "id": ruleset_id,
            "name": stored["name"],
            "target": stored.get("target", "branch"),
            "source_type": "Repository",
            "source": f"{self.owner}/{self.name}",
            "enforcement": stored["enforcement"],
            "node_id": f"RRS_{ruleset_id}",
            "_links": {
                "self": {
                    "href": f"https://api.github.com/repos/{self.owner}/{self.name}/rulesets/{ruleset_id}"
                },
                "html": {"href": f"https://github.com/{self.owner}/{self.name}/rules/{ruleset_id}"},
            },
            "created_at": "2026-11-30T00:00:00Z",
            "updated_at": "2026-11-30T00:00:00Z",
        }
        if summary:
            return head
        rules = []
        for stored_rule in stored.get("rules", []):
            shown = json.loads(json.dumps(stored_rule))
            # GitHub answers with the defaults of parameters that were not sent.
            if shown["type"] == "pull_request":
                shown.setdefault("parameters", {}).setdefault(
                    "allowed_merge_methods", ["merge", "squash", "rebase"]
                )
            if shown["type"] == "required_status_checks":
                shown.setdefault("parameters", {}).setdefault("do_not_enforce_on_create", False)
            rules.append(shown)
        ref = (stored.get("conditions") or {}).get("ref_name") or {}
        return head | {
            "bypass_actors": stored.get("bypass_actors", []),
            "current_user_can_bypass": "never",
            "conditions": {
                "ref_name": {"exclude": ref.get("exclude", []), "include": ref.get("include", [])}
            },
            "rules": rules,
        }

    def check_ruleset(self, body: dict[str, Any], ruleset_id: int | None) -> None:
        if any(r["name"] == body.get("name") and i != ruleset_id for i, r in self.rulesets.items()):
            raise Reply(422, "Validation Failed", ["Name must be unique"])
        kinds = [r["type"] for r in body.get("rules", [])]
        if len(kinds) != len(set(kinds)):
            raise Reply(422, "Validation Failed", ["A rule type may appear only once"])
        ref = (body.get("conditions") or {}).get("ref_name") or {}
        for pattern in ref.get("include", []) + ref.get("exclude", []):
            if not (pattern.startswith("refs/heads/") or pattern in ("~DEFAULT_BRANCH", "~ALL")):
                raise Reply(422, "Validation Failed", [f"Invalid ref name pattern {pattern!r}"])

    def list_rulesets(self, record: Recorded) -> tuple[int, Any]:
        items = [self.ruleset_json(i, summary=True) for i in sorted(self.rulesets)]
        return 200, Paged(items, lambda page: page)

    def create_ruleset(self, record: Recorded) -> tuple[int, Any]:
        self.check_ruleset(record.body, None)
        ruleset_id = self.new_id()
        self.rulesets[ruleset_id] = json.loads(json.dumps(record.body))
        return 201, self.ruleset_json(ruleset_id)

    def get_ruleset(self, _: Recorded, ruleset: str) -> tuple[int, Any]:
        if int(ruleset) not in self.rulesets:
            raise Reply(404, "Not Found")
        return 200, self.ruleset_json(int(ruleset))

    def update_ruleset(self, record: Recorded, ruleset: str) -> tuple[int, Any]:
        ruleset_id = int(ruleset)
        if ruleset_id not in self.rulesets:
            raise Reply(404, "Not Found")
        merged = self.rulesets[ruleset_id] | json.loads(json.dumps(record.body))
        self.check_ruleset(merged, ruleset_id)
        self.rulesets[ruleset_id] = merged
        return 200, self.ruleset_json(ruleset_id)


@dataclass
class Paged:
    """A list answer, cut into pages as GitHub does (per_page, page, Link rel="next")."""

    items: list[Any]
    wrap: Callable[[list[Any]], Any]

    def page(self, target: str, query: dict[str, list[str]]) -> tuple[Any, dict[str, str]]:
        per_page = int(query.get("per_page", ["30"])[-1])
        number = int(query.get("page", ["1"])[-1])
        chunk = self.items[(number - 1) * per_page : number * per_page]
        headers: dict[str, str] = {}
        if number * per_page < len(self.items):
            parts = urlsplit(target)
            rest = "&".join(
                f"{key}={value}"
                for key, values in query.items()
                if key != "page"
                for value in values
            )
            headers["Link"] = f'<{parts.path}?{rest}&page={number + 1}>; rel="next"'
        return self.wrap(chunk), headers
