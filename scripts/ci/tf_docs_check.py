"""Check that generated Terraform docs in READMEs are up to date (terraform-docs --output-check).

A Terraform directory (``modules/*``, ``environments/*``) takes part when its README.md holds
the terraform-docs markers ``<!-- BEGIN_TF_DOCS -->`` / ``<!-- END_TF_DOCS -->``. For each one,
``terraform-docs markdown table --output-mode inject --output-check`` fails when the injected
section differs from what the code generates. A root ``.terraform-docs.yml`` is honoured.

terraform-docs is installed in CI (not on the development machines); locally this exits 0
with a notice when the binary is missing, unless --require is given. With --require (CI), it
also fails when no README carries the markers, and when a module under ``modules/`` has a
README without them: a check that checks nothing must not pass.

Usage: python -m scripts.ci.tf_docs_check [--require] [--fix]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"
SEARCH_DIRS = ("modules", "environments")


def documented_dirs(root: Path) -> list[Path]:
    """Terraform directories whose README.md carries the terraform-docs markers."""
    found: list[Path] = []
    for top in SEARCH_DIRS:
        base = root / top
        if not base.is_dir():
            continue
        for readme in sorted(base.rglob("README.md")):
            if ".terraform" in readme.parts:
                continue
            directory = readme.parent
            if not any(directory.glob("*.tf")):
                continue
            text = readme.read_text(encoding="utf-8")
            if BEGIN in text and END in text:
                found.append(directory)
    return found


def unmarked_modules(root: Path) -> list[Path]:
    """Modules (``modules/*`` with .tf files) whose README.md lacks the markers."""
    base = root / "modules"
    if not base.is_dir():
        return []
    documented = set(documented_dirs(root))
    return [
        directory
        for directory in sorted(base.iterdir())
        if (directory / "README.md").is_file()
        and any(directory.glob("*.tf"))
        and directory not in documented
    ]


def command(binary: str, directory: Path, root: Path, *, fix: bool) -> list[str]:
    args = [binary]
    config = root / ".terraform-docs.yml"
    if config.is_file():
        args.append(f"--config={config}")
    args += ["markdown", "table", "--output-file=README.md", "--output-mode=inject"]
    if not fix:
        args.append("--output-check")
    args.append(str(directory))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tf_docs_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--require", action="store_true", help="fail if terraform-docs is absent")
    parser.add_argument("--fix", action="store_true", help="rewrite the READMEs instead")
    args = parser.parse_args(argv)

    binary = os.environ.get("TERRAFORM_DOCS_BIN") or shutil.which("terraform-docs")
    if not binary:
        message = "terraform-docs is not installed (it runs in CI)"
        print(f"{'error' if args.require else 'skip'}: {message}", file=sys.stderr)
        return 1 if args.require else 0

    dirs = documented_dirs(args.root)
    unmarked = [path for path in unmarked_modules(args.root) if args.require]
    for directory in unmarked:
        rel = directory.relative_to(args.root)
        print(f"error: {rel}/README.md has no {BEGIN} / {END} markers", file=sys.stderr)
    if not dirs:
        print(f"no README.md with {BEGIN} markers under {', '.join(SEARCH_DIRS)}: nothing to check")
        return 1 if args.require else 0
    failed: list[Path] = []
    for directory in dirs:
        result = subprocess.run(
            command(binary, directory, args.root, fix=args.fix), check=False, cwd=args.root
        )
        if result.returncode != 0:
            failed.append(directory)
    for directory in failed:
        rel = directory.relative_to(args.root)
        print(f"{rel}/README.md is out of date: run terraform-docs (or this with --fix)")
    print(f"terraform-docs: {len(dirs)} director(ies) checked, {len(failed)} out of date")
    return 1 if failed or unmarked else 0


if __name__ == "__main__":
    sys.exit(main())
