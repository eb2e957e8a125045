"""Build a local provider mirror for the offline Terraform checks (TF_PROVIDER_MIRROR).

On a machine with registry access (CI), run ``terraform providers mirror`` for every
directory under ``environments/`` and ``modules/`` into one directory (the versions and
hashes come from the committed .terraform.lock.hcl files), so that the Terraform make targets, which
install providers from the filesystem mirror named by TF_PROVIDER_MIRROR, work the same way
in CI as on the offline development machines.

Usage: python -m scripts.ci.provider_mirror --out DIR [--platform linux_amd64] [--github-env]

With --github-env, ``TF_PROVIDER_MIRROR=DIR`` is appended to $GITHUB_ENV for later steps.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def root_modules(root: Path) -> list[Path]:
    """environments/* first (the root modules), then modules/* (checked on their own too)."""
    found: list[Path] = []
    for top in ("environments", "modules"):
        base = root / top
        if base.is_dir():
            found += sorted(d for d in base.iterdir() if d.is_dir() and any(d.glob("*.tf")))
    return found


def mirror(directory: Path, out: Path, platform: str, binary: str) -> int:
    # A throw-away data dir keeps the working tree's .terraform untouched.
    with tempfile.TemporaryDirectory(prefix="tf-mirror-") as data_dir:
        env = {**os.environ, "TF_DATA_DIR": data_dir, "TF_IN_AUTOMATION": "1"}
        for args in (
            ["init", "-backend=false", "-input=false", "-no-color", "-lockfile=readonly"],
            ["providers", "mirror", f"-platform={platform}", str(out)],
        ):
            result = subprocess.run([binary, *args], cwd=directory, env=env, check=False)
            if result.returncode != 0:
                return result.returncode
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="provider_mirror", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, required=True, help="mirror directory to fill")
    parser.add_argument("--platform", default="linux_amd64")
    parser.add_argument("--github-env", action="store_true", help="export TF_PROVIDER_MIRROR")
    args = parser.parse_args(argv)

    binary = os.environ.get("TERRAFORM_BIN", "terraform")
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    modules = root_modules(args.root)
    if not modules:
        print("no Terraform directories under environments/ or modules/", file=sys.stderr)
        return 1
    for directory in modules:
        print(f"mirroring providers of {directory.relative_to(args.root)}", flush=True)
        code = mirror(directory, out, args.platform, binary)
        if code != 0:
            print(f"terraform failed in {directory} ({code})", file=sys.stderr)
            return 1
    line = f"TF_PROVIDER_MIRROR={out}"
    print(line)
    target = os.environ.get("GITHUB_ENV")
    if args.github_env and target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
