"""Run Terraform for one deployment environment the way the pipelines do.

Every workflow step that touches an environment goes through this script, so the
rules live in one tested place:

* the environment name selects the root module, its backend config file and its tfvars,
  and anything else is rejected;
* ``plan`` always saves a plan file, renders it as text and reports whether it changes
  anything (``has_changes``, ``plan_sha256`` in ``$GITHUB_OUTPUT``);
* ``apply`` only ever applies a saved plan file, optionally checking its SHA-256 first, so
  what is applied is exactly what was reviewed; with ``--replan`` it plans again first (under
  the state lock) and applies that fresh plan only if it makes exactly the reviewed changes,
  so a plan gone stale because the state's serial moved is not a failure, a changed plan is
  refused, and a fresh plan without changes (already applied by an earlier attempt) succeeds;
* ``output`` reads one output (``api_endpoint``) after an apply.

Usage (from the repository root)::

    python -m scripts.ci.terraform_env resolve dev
    python -m scripts.ci.terraform_env plan dev --out tfplan --text plan.txt [--lock=false]
    python -m scripts.ci.terraform_env apply dev --plan tfplan [--expect-sha256 HEX] [--replan]
    python -m scripts.ci.terraform_env output dev api_endpoint
    python -m scripts.ci.terraform_env list
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS: tuple[str, ...] = ("dev", "prod")
# Exit codes of `terraform plan -detailed-exitcode`.
PLAN_NO_CHANGES = 0
PLAN_ERROR = 1
PLAN_HAS_CHANGES = 2
# Files Terraform loads by itself; passing them again with -var-file would be redundant.
_AUTO_LOADED = ("terraform.tfvars", "terraform.tfvars.json")


class UnknownEnvironmentError(ValueError):
    """Raised for an environment name the pipelines do not deploy."""


@dataclass(frozen=True)
class EnvConfig:
    """Where one environment's Terraform lives, relative to the repository root."""

    name: str
    directory: Path
    backend_config: str
    var_file: str

    def init_args(self) -> list[str]:
        return ["init", "-input=false", "-no-color", f"-backend-config={self.backend_config}"]

    def var_file_args(self) -> list[str]:
        auto = self.var_file in _AUTO_LOADED or self.var_file.endswith(".auto.tfvars")
        return [] if auto else [f"-var-file={self.var_file}"]

    def missing_files(self, root: Path = REPO_ROOT) -> list[Path]:
        base = root / self.directory
        candidates = [base, base / self.backend_config, base / self.var_file]
        return [path for path in candidates if not path.exists()]


def resolve(name: str) -> EnvConfig:
    """Map an environment name to its root module, backend config file and tfvars."""
    if name not in ENVIRONMENTS:
        known = ", ".join(ENVIRONMENTS)
        raise UnknownEnvironmentError(f"unknown environment {name!r} (known: {known})")
    return EnvConfig(
        name=name,
        directory=Path("environments") / name,
        backend_config=f"{name}.s3.tfbackend",
        var_file="terraform.tfvars",
    )


def sha256_file(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def write_github_output(values: dict[str, str]) -> None:
    """Append key=value lines to $GITHUB_OUTPUT when running in Actions."""
    target = os.environ.get("GITHUB_OUTPUT")
    if not target:
        return
    with open(target, "a", encoding="utf-8") as handle:
        for key, value in values.items():
            if "\n" in value:
                raise ValueError(f"output {key} must be a single line")
            handle.write(f"{key}={value}\n")


class Terraform:
    """Runs the terraform binary in one environment's directory."""

    def __init__(self, env: EnvConfig, root: Path = REPO_ROOT, binary: str | None = None) -> None:
        self.env = env
        self.root = root
        self.binary = binary or os.environ.get("TERRAFORM_BIN", "terraform")

    @property
    def workdir(self) -> Path:
        return self.root / self.env.directory

    def run(
        self, args: Sequence[str], *, capture: bool = False
    ) -> subprocess.CompletedProcess[str]:
        command = [self.binary, *args]
        print(f"+ (cd {self.env.directory} && {' '.join(command)})", file=sys.stderr, flush=True)
        env = {**os.environ, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}
        return subprocess.run(
            command,
            cwd=self.workdir,
            env=env,
            text=True,
            capture_output=capture,
            check=False,
        )

    def init(self) -> None:
        result = self.run(self.env.init_args())
        if result.returncode != 0:
            raise SystemExit(f"terraform init failed for {self.env.name} ({result.returncode})")

    def plan(self, out: Path, *, lock: bool = True) -> tuple[int, str]:
        """Plan into ``out``; return (detailed exit code, combined output)."""
        args = ["plan", "-input=false", "-no-color", "-detailed-exitcode", f"-out={out}"]
        args += self.env.var_file_args()
        if not lock:
            args.append("-lock=false")
        result = self.run(args, capture=True)
        output = result.stdout + result.stderr
        sys.stderr.write(output)
        return result.returncode, output

    def show(self, plan_file: Path) -> str:
        result = self.run(["show", "-no-color", str(plan_file)], capture=True)
        if result.returncode != 0:
            sys.stderr.write(result.stderr)
            raise SystemExit(f"terraform show failed for {self.env.name}")
        return result.stdout

    def show_json(self, plan_file: Path) -> dict[str, Any]:
        result = self.run(["show", "-json", "-no-color", str(plan_file)], capture=True)
        if result.returncode != 0:
            sys.stderr.write(result.stderr)
            raise SystemExit(f"terraform show -json failed for {self.env.name}")
        data = json.loads(result.stdout)
        if not isinstance(data, dict):
            raise SystemExit(f"terraform show -json gave no plan object for {self.env.name}")
        return data

    def apply(self, plan_file: Path) -> int:
        return self.run(["apply", "-input=false", "-no-color", str(plan_file)]).returncode

    def output(self, name: str) -> str:
        result = self.run(["output", "-no-color", "-raw", name], capture=True)
        if result.returncode != 0:
            sys.stderr.write(result.stderr)
            raise SystemExit(f"terraform output {name} failed for {self.env.name}")
        return result.stdout.strip()


def planned_changes(plan: dict[str, Any]) -> list[Any]:
    """What a plan (``terraform show -json``) would do: every resource action but no-op, and
    every output change, each with its before/after values; nothing that varies between two
    plans of the same change (timestamps, state serial, the refreshed prior state)."""
    found: list[Any] = []
    for change in plan.get("resource_changes") or []:
        detail = change.get("change") or {}
        actions = list(detail.get("actions") or [])
        if actions in ([], ["no-op"], ["read"]):
            continue
        found.append(
            [
                "resource",
                change.get("address"),
                actions,
                detail.get("before"),
                detail.get("after"),
                detail.get("after_unknown"),
            ]
        )
    for name, detail in sorted((plan.get("output_changes") or {}).items()):
        actions = list((detail or {}).get("actions") or [])
        if actions in ([], ["no-op"]):
            continue
        found.append(["output", name, actions, detail.get("before"), detail.get("after")])
    return found


def _absolute(path: Path) -> Path:
    return path if path.is_absolute() else Path.cwd() / path


def cmd_resolve(args: argparse.Namespace) -> int:
    env = resolve(args.environment)
    missing = env.missing_files(args.root)
    values = {
        "environment": env.name,
        "directory": env.directory.as_posix(),
        "backend_config": env.backend_config,
        "var_file": env.var_file,
    }
    print(json.dumps(values, indent=2))
    write_github_output(values)
    if args.check and missing:
        for path in missing:
            print(f"missing: {path}", file=sys.stderr)
        return 1
    return 0


def cmd_list(_: argparse.Namespace) -> int:
    print(json.dumps(list(ENVIRONMENTS)))
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    env = resolve(args.environment)
    terraform = Terraform(env, args.root)
    out = _absolute(args.out)
    text_path = _absolute(args.text) if args.text else None
    for path in (out, text_path):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
    terraform.init()
    code, log = terraform.plan(out, lock=args.lock)
    if code not in (PLAN_NO_CHANGES, PLAN_HAS_CHANGES):
        if text_path:
            text_path.write_text(log, encoding="utf-8")
        write_github_output({"has_changes": "unknown", "plan_sha256": ""})
        print(f"terraform plan failed for {env.name} ({code})", file=sys.stderr)
        return PLAN_ERROR
    has_changes = code == PLAN_HAS_CHANGES
    if text_path:
        text_path.write_text(terraform.show(out), encoding="utf-8")
    digest = sha256_file(out)
    write_github_output(
        {"has_changes": "true" if has_changes else "false", "plan_sha256": digest},
    )
    print(f"{env.name}: {'changes planned' if has_changes else 'no changes'} (sha256 {digest})")
    if args.detailed_exitcode and has_changes:
        return PLAN_HAS_CHANGES
    return 0


def _replan(terraform: Terraform, reviewed: Path) -> Path | None:
    """Plan again (with the state lock); the fresh plan file to apply if it makes exactly the
    reviewed changes, ``reviewed`` itself when there is nothing left to apply, None to refuse."""
    name = terraform.env.name
    fresh = reviewed.with_name(reviewed.name + ".fresh")
    code, _ = terraform.plan(fresh)
    if code not in (PLAN_NO_CHANGES, PLAN_HAS_CHANGES):
        print(f"terraform plan (re-plan) failed for {name} ({code})", file=sys.stderr)
        return None
    if code == PLAN_NO_CHANGES:
        print(f"{name}: the re-plan changes nothing (already applied): nothing to apply")
        return reviewed
    if planned_changes(terraform.show_json(fresh)) != planned_changes(
        terraform.show_json(reviewed)
    ):
        print(
            f"{name}: the plan changed since it was reviewed (another run applied, or the "
            "infrastructure drifted): refusing to apply it. Start a new deploy of "
            f"{name} (gh workflow run deploy.yml -f environment={name}) and review its plan.",
            file=sys.stderr,
        )
        return None
    print(f"{name}: the re-plan makes exactly the reviewed changes; applying it")
    return fresh


def cmd_apply(args: argparse.Namespace) -> int:
    env = resolve(args.environment)
    plan_file = _absolute(args.plan)
    if not plan_file.is_file():
        print(f"saved plan file not found: {plan_file}", file=sys.stderr)
        return 1
    if args.expect_sha256:
        actual = sha256_file(plan_file)
        if actual != args.expect_sha256.lower():
            print(
                f"plan file {plan_file} has sha256 {actual}, expected {args.expect_sha256}: "
                "refusing to apply a plan that is not the reviewed one",
                file=sys.stderr,
            )
            return 1
    terraform = Terraform(env, args.root)
    terraform.init()
    if args.replan:
        fresh = _replan(terraform, plan_file)
        if fresh is None:
            return 1
        if fresh == plan_file:
            return 0
        plan_file = fresh
    code = terraform.apply(plan_file)
    if code != 0:
        print(f"terraform apply failed for {env.name} ({code})", file=sys.stderr)
        return 1
    return 0


def cmd_output(args: argparse.Namespace) -> int:
    env = resolve(args.environment)
    terraform = Terraform(env, args.root)
    if args.init:
        terraform.init()
    value = terraform.output(args.name)
    print(value)
    write_github_output({args.name: value})
    return 0


def _bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="terraform_env", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)

    p_resolve = sub.add_parser("resolve", help="print an environment's directory and files")
    p_resolve.add_argument("environment")
    p_resolve.add_argument("--check", action="store_true", help="fail if a file is missing")
    p_resolve.set_defaults(func=cmd_resolve)

    p_list = sub.add_parser("list", help="print the environments as a JSON list")
    p_list.set_defaults(func=cmd_list)

    p_plan = sub.add_parser("plan", help="init and plan into a saved plan file")
    p_plan.add_argument("environment")
    p_plan.add_argument("--out", type=Path, required=True, help="saved plan file to write")
    p_plan.add_argument("--text", type=Path, help="write the rendered plan (or the error) here")
    p_plan.add_argument("--lock", type=_bool, default=True, help="take the state lock")
    p_plan.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 2 when the plan has changes (drift detection)",
    )
    p_plan.set_defaults(func=cmd_plan)

    p_apply = sub.add_parser("apply", help="init and apply a saved plan file, nothing else")
    p_apply.add_argument("environment")
    p_apply.add_argument("--plan", type=Path, required=True, help="saved plan file to apply")
    p_apply.add_argument("--expect-sha256", help="refuse unless the plan file has this digest")
    p_apply.add_argument(
        "--replan",
        action="store_true",
        help="plan again and apply that plan only if it makes exactly the saved plan's changes",
    )
    p_apply.set_defaults(func=cmd_apply)

    p_output = sub.add_parser("output", help="print one Terraform output")
    p_output.add_argument("environment")
    p_output.add_argument("name")
    p_output.add_argument("--init", action="store_true", help="run terraform init first")
    p_output.set_defaults(func=cmd_output)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except UnknownEnvironmentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
