"""Publish a Terraform plan: job summary and one sticky pull-request comment per environment.

The comment carries a hidden marker (``<!-- ingest-terraform-plan:ENV -->``) so that later runs
find it and update it in place instead of adding a new one. A plan longer than GitHub allows
in a comment (65,536 characters) is cut at a line boundary; the summary line
(``Plan: 1 to add, ...``) always stays, and the comment says it was truncated and links to
the run, whose summary and artifact hold the full plan.

Usage (in a workflow, from the repository root)::

    python -m scripts.ci.plan_comment publish --environment dev --plan-text plan.txt \
        --status success [--comment] [--summary] [--save-status FILE]
    python -m scripts.ci.plan_comment publish --environment dev --plan-text plan.txt \
        --status-file FILE --comment
    python -m scripts.ci.plan_comment fork-notice

On pull requests the plan job (AWS credentials, no write access to the pull request) writes the
summary and saves the plan step's outcome with ``--save-status``; the comment job (the only one
allowed to comment, running no Terraform) reads it back with ``--status-file``.

The GitHub context comes from the standard variables (GITHUB_TOKEN, GITHUB_REPOSITORY,
GITHUB_API_URL, GITHUB_SERVER_URL, GITHUB_RUN_ID, GITHUB_EVENT_PATH, GITHUB_STEP_SUMMARY).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

COMMENT_LIMIT = 65_536
# A step summary may hold 1 MiB; keep well below it since one job may add several sections.
SUMMARY_LIMIT = 512 * 1024
MARKER_PREFIX = "<!-- ingest-terraform-plan:"
FENCE = "```"

_SUMMARY_PATTERNS = (
    re.compile(r"^Plan: \d+ to add, \d+ to change, \d+ to destroy\.?.*$", re.MULTILINE),
    re.compile(r"^No changes\..*$", re.MULTILINE),
    re.compile(r"^Changes to Outputs:.*$", re.MULTILINE),
    re.compile(r"^Error: .*$", re.MULTILINE),
)
_STATUS_ICONS = {
    "success": "✅",
    "failure": "❌",
    "cancelled": "⚪",
    "skipped": "⚪",
    "drift": "⚠️",
}
# A step's outcome, or "drift" from the drift check.
STATUSES = tuple(_STATUS_ICONS)


def marker(environment: str) -> str:
    return f"{MARKER_PREFIX}{environment} -->"


def summary_line(plan_text: str) -> str:
    """The one line that says what the plan does (or the first error)."""
    for pattern in _SUMMARY_PATTERNS:
        found = pattern.search(plan_text)
        if found:
            return found.group(0).strip()
    return "No summary line found in the plan output."


@dataclass(frozen=True)
class PlanReport:
    environment: str
    plan_text: str
    status: str = "success"
    run_url: str | None = None
    commit: str | None = None

    @property
    def headline(self) -> str:
        icon = _STATUS_ICONS.get(self.status, "❔")
        verdict = {
            "success": "plan",
            "drift": "drift detected",
        }.get(self.status, f"plan {self.status}")
        return f"### {icon} Terraform {verdict}: `{self.environment}`"


_SIGN = re.compile(r"^( +)([-+~])(?=[ /])", re.MULTILINE)


def _for_diff(body: str) -> str:
    """Move each change sign to the first column so that ```diff colours it; defuse fences."""
    # A plan never contains a fence of its own, but make sure it cannot close ours.
    return _SIGN.sub(r"\2\1", body.replace(FENCE, "`\u200b``"))


def _fenced(body: str) -> str:
    return f"{FENCE}diff\n{_for_diff(body).rstrip()}\n{FENCE}"


def _cut_at_line(text: str, budget: int) -> str:
    if len(text) <= budget:
        return text
    if budget <= 0:
        return ""
    cut = text[:budget]
    newline = cut.rfind("\n")
    return cut[: newline + 1] if newline > 0 else cut


def render(report: PlanReport, *, limit: int = COMMENT_LIMIT, with_marker: bool = True) -> str:
    """Markdown for a comment or a summary, never longer than ``limit`` characters."""
    head = [marker(report.environment)] if with_marker else []
    head.append(report.headline)
    head.append("")
    head.append(f"**{summary_line(report.plan_text)}**")
    details = []
    if report.commit:
        details.append(f"commit `{report.commit[:12]}`")
    if report.run_url:
        details.append(f"[workflow run]({report.run_url})")
    if details:
        head.append("")
        head.append(" · ".join(details))
    head.append("")
    header = "\n".join(head)

    full = f"{header}<details><summary>Show plan</summary>\n\n{_fenced(report.plan_text)}\n</details>\n"
    if len(full) <= limit:
        return full

    where = f"the [workflow run]({report.run_url})" if report.run_url else "the workflow run"
    notice = (
        f"\n> [!WARNING]\n> The plan is too long for a comment and was **truncated**. "
        f"The full plan is in the job summary and the plan artifact of {where}.\n"
    )
    opening = f"{header}<details><summary>Show plan (truncated)</summary>\n\n{FENCE}diff\n"
    closing = f"\n... (truncated)\n{FENCE}\n</details>\n{notice}"
    budget = limit - len(opening) - len(closing)
    kept = _cut_at_line(_for_diff(report.plan_text), budget).rstrip("\n")
    return f"{opening}{kept}{closing}"


def fork_notice() -> str:
    return (
        "### ⚪ Terraform plan skipped\n\n"
        "This pull request comes from a fork. Workflows started by forks get no cloud "
        "credentials (no OIDC token) and a read-only `GITHUB_TOKEN`, so the plan for `dev` and "
        "`prod` cannot run here and no plan comment is posted. Tests and static checks still "
        "ran. A maintainer can push the branch to this repository to get a plan, and every "
        "change is planned again (and shown before the `prod` approval) when it is merged.\n"
    )


# --- GitHub REST API ------------------------------------------------------------------------


class GitHubError(RuntimeError):
    pass


class GitHub:
    """The handful of REST calls the sticky comment needs, over urllib."""

    def __init__(self, token: str, api_url: str = "https://api.github.com") -> None:
        if not token:
            raise GitHubError("GITHUB_TOKEN is empty")
        self.token = token
        self.api_url = api_url.rstrip("/")

    def request(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        url = path if path.startswith("http") else f"{self.api_url}{path}"
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise GitHubError(f"refusing non-HTTP URL {url}")
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        req.add_header("Accept", "application/vnd.github+json")
        req.add_header("X-GitHub-Api-Version", "2022-11-28")
        req.add_header("User-Agent", "ingest-ci")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                payload = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:500]
            raise GitHubError(f"{method} {url}: HTTP {exc.code}: {detail}") from exc
        return json.loads(payload) if payload else None

    def issue_comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        comments: list[dict[str, Any]] = []
        page = 1
        while True:
            batch = self.request(
                "GET", f"/repos/{repo}/issues/{number}/comments?per_page=100&page={page}"
            )
            if not isinstance(batch, list):
                raise GitHubError("unexpected response listing comments")
            comments.extend(batch)
            if len(batch) < 100:
                return comments
            page += 1


def _by_a_bot(comment: Mapping[str, Any]) -> bool:
    """Only the workflow's own comments are edited (GITHUB_TOKEN posts as a Bot user)."""
    user = comment.get("user")
    return not isinstance(user, Mapping) or user.get("type", "Bot") == "Bot"


def upsert_comment(
    github: GitHub, repo: str, number: int, environment: str, body: str
) -> tuple[str, int]:
    """Update the comment that carries this environment's marker, or create it.

    Returns ("updated" | "created", comment id). Extra comments with the same marker (left by
    an earlier race) are deleted so that exactly one remains.
    """
    tag = marker(environment)
    mine = [
        c
        for c in github.issue_comments(repo, number)
        if tag in str(c.get("body", "")) and _by_a_bot(c)
    ]
    if mine:
        keep, *extra = mine
        comment_id = int(keep["id"])
        github.request("PATCH", f"/repos/{repo}/issues/comments/{comment_id}", {"body": body})
        for duplicate in extra:
            github.request("DELETE", f"/repos/{repo}/issues/comments/{int(duplicate['id'])}")
        return "updated", comment_id
    created = github.request("POST", f"/repos/{repo}/issues/{number}/comments", {"body": body})
    return "created", int(created["id"])


# --- Command line ---------------------------------------------------------------------------


class StatusError(ValueError):
    pass


def read_status(path: Path) -> str:
    """The status a plan job saved; it comes from an artifact, so it is checked."""
    if not path.is_file():
        raise StatusError(f"no status file at {path}")
    status = path.read_text(encoding="utf-8").strip()
    if status not in STATUSES:
        raise StatusError(f"status file {path} holds {status[:40]!r}, not one of {STATUSES}")
    return status


def save_status(path: Path, status: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(status + "\n", encoding="utf-8")


def pull_request_number(event_path: str | None) -> int | None:
    if not event_path or not Path(event_path).is_file():
        return None
    event = json.loads(Path(event_path).read_text(encoding="utf-8"))
    pull = event.get("pull_request") or {}
    number = pull.get("number") or event.get("number")
    return int(number) if number else None


def run_url(environ: Mapping[str, str]) -> str | None:
    server = environ.get("GITHUB_SERVER_URL", "https://github.com")
    repo = environ.get("GITHUB_REPOSITORY")
    run_id = environ.get("GITHUB_RUN_ID")
    if not repo or not run_id:
        return None
    return f"{server}/{repo}/actions/runs/{run_id}"


def append_summary(text: str, environ: Mapping[str, str]) -> None:
    target = environ.get("GITHUB_STEP_SUMMARY")
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(text + "\n")
    else:
        print(text)


def cmd_publish(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    text_path = Path(args.plan_text)
    plan_text = (
        text_path.read_text(encoding="utf-8")
        if text_path.is_file()
        else (f"Error: no plan output at {text_path} (the plan step did not get that far).")
    )
    status = read_status(Path(args.status_file)) if args.status_file else args.status
    if args.save_status:
        save_status(Path(args.save_status), status)
    report = PlanReport(
        environment=args.environment,
        plan_text=plan_text,
        status=status,
        run_url=run_url(environ),
        commit=environ.get("PLAN_COMMIT_SHA") or environ.get("GITHUB_SHA"),
    )
    if args.summary:
        append_summary(render(report, limit=SUMMARY_LIMIT, with_marker=False), environ)
    if args.comment:
        number = pull_request_number(environ.get("GITHUB_EVENT_PATH"))
        repo = environ.get("GITHUB_REPOSITORY", "")
        if number is None or not repo:
            print("not a pull request: no comment posted", file=sys.stderr)
            return 0
        github = GitHub(environ.get("GITHUB_TOKEN", ""), environ.get("GITHUB_API_URL", ""))
        action, comment_id = upsert_comment(github, repo, number, args.environment, render(report))
        print(f"{action} plan comment {comment_id} on #{number} for {args.environment}")
    return 0


def cmd_fork_notice(_: argparse.Namespace, environ: Mapping[str, str]) -> int:
    append_summary(fork_notice(), environ)
    print("::notice title=Terraform plan skipped::pull requests from forks get no credentials")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="plan_comment", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    publish = sub.add_parser("publish", help="write the plan to the job summary and/or the PR")
    publish.add_argument("--environment", required=True)
    publish.add_argument("--plan-text", required=True, help="file with `terraform show` output")
    status = publish.add_mutually_exclusive_group()
    status.add_argument(
        "--status", default="success", choices=STATUSES, help="outcome of the plan step"
    )
    status.add_argument("--status-file", help="read the status from this file (--save-status)")
    publish.add_argument("--save-status", help="also write the status to this file")
    publish.add_argument("--summary", action="store_true", help="append to the job summary")
    publish.add_argument("--comment", action="store_true", help="upsert the sticky PR comment")
    publish.set_defaults(func=cmd_publish)
    notice = sub.add_parser("fork-notice", help="explain in the summary why no plan ran")
    notice.set_defaults(func=cmd_fork_notice)
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    env = os.environ if environ is None else environ
    if not env.get("GITHUB_API_URL"):
        env = {**env, "GITHUB_API_URL": "https://api.github.com"}
    try:
        code: int = args.func(args, env)
    except (GitHubError, StatusError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
