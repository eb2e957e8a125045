"""Build the Lambda deployment artifact (dist/ingest.zip), reproducibly.

Steps (see docs/decisions/0004-packaging.md):

1. install the runtime dependencies from the hash-pinned ``requirements/lambda.lock`` as
   manylinux aarch64 / CPython 3.11 wheels (the function is arm64, ``python3.11``);
2. copy the runtime package ``services/ingest/src/ingest``: all the function imports. The tools
   (``services/ingest-tools``: the CLI, the local gateway, the cost model, the OpenAPI generator)
   and their dependencies never ship;
3. drop what the function never reads (caches, installer bookkeeping, type stubs);
4. precompile every module with CPython 3.11 in ``unchecked-hash`` mode: ``/var/task`` is read-only
   on Lambda, so without shipped bytecode every cold start compiles every imported module again;
5. write a zip whose bytes depend only on the inputs: sorted entries, fixed timestamps and modes.

Usage: ``python scripts/package.py --out dist/ingest.zip [--lock requirements/lambda.lock]``
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "services" / "ingest" / "src" / "ingest"
LOCK = ROOT / "requirements" / "lambda.lock"
PLATFORM = "aarch64-manylinux2014"
# The Lambda runtime, in one place that Terraform reads too (modules/ingest-function/main.tf).
RUNTIME = (ROOT / "modules" / "ingest-function" / "lambda-runtime.txt").read_text().strip()
PYTHON_VERSION = RUNTIME.removeprefix("python")  # python3.11 -> 3.11
# Lambda unpacks the archive into /var/task: tracebacks then name the real paths.
TASK_ROOT = "/var/task"
# 1980-01-01 is the earliest timestamp a zip entry can hold.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644

# Directory names removed anywhere in the tree.
DROP_DIRS = frozenset({"__pycache__", "tests", "test", ".pytest_cache", ".mypy_cache"})
# File names removed from *.dist-info (installer bookkeeping that varies between installers).
DROP_DIST_INFO = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})
DROP_SUFFIXES = (".pyc", ".pyo", ".pyi")


def uv_binary() -> str:
    """The uv next to the running interpreter (the project's .venv), else the one on PATH."""
    candidate = Path(sys.executable).parent / "uv"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("uv")
    if found is None:
        sys.exit("package.py: uv not found (run `make venv` first)")
    return found


def install_dependencies(lock: Path, target: Path) -> None:
    subprocess.run(
        [
            uv_binary(),
            "pip",
            "install",
            "--quiet",
            "--target",
            str(target),
            "--python-platform",
            PLATFORM,
            "--python-version",
            PYTHON_VERSION,
            "--only-binary",
            ":all:",
            "--require-hashes",
            "--no-deps",
            "--no-compile",
            "-r",
            str(lock),
        ],
        check=True,
    )


def copy_service(source: Path, target: Path) -> None:
    if not (source / "__init__.py").exists():
        sys.exit(f"package.py: {source}/__init__.py is missing")
    shutil.copytree(
        source,
        target / "ingest",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"),
    )


def prune(target: Path) -> None:
    for path in sorted(target.rglob("*"), reverse=True):
        if not path.exists():
            continue
        if path.is_dir() and path.name in DROP_DIRS:
            shutil.rmtree(path)
        elif path.is_file() and (
            path.suffix in DROP_SUFFIXES
            or (path.parent.name.endswith(".dist-info") and path.name in DROP_DIST_INFO)
        ):
            path.unlink()
    (target / ".lock").unlink(missing_ok=True)  # uv's install lock
    bin_dir = target / "bin"  # console scripts: never run inside Lambda
    if bin_dir.exists():
        shutil.rmtree(bin_dir)


def compile_bytecode(target: Path) -> None:
    if f"{sys.version_info[0]}.{sys.version_info[1]}" != PYTHON_VERSION:
        sys.exit(f"package.py: run with CPython {PYTHON_VERSION} (bytecode must match {RUNTIME})")
    ok = compileall.compile_dir(
        str(target),
        ddir=TASK_ROOT,
        quiet=1,
        workers=1,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    if not ok:
        sys.exit("package.py: byte-compilation failed")


def write_zip(source: Path, out: Path) -> None:
    files = sorted((p.relative_to(source).as_posix(), p) for p in source.rglob("*") if p.is_file())
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, path in files:
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so that external_attr carries the mode
            info.external_attr = (0o100000 | FILE_MODE) << 16
            zf.writestr(info, path.read_bytes(), compresslevel=9)
    partial.replace(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "ingest.zip")
    parser.add_argument("--lock", type=Path, default=LOCK)
    parser.add_argument("--source", type=Path, default=SOURCE, help="the service package directory")
    args = parser.parse_args(argv)

    started = time.monotonic()
    build_root = ROOT / "build"
    build_root.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="package-", dir=build_root) as scratch:
        target = Path(scratch) / "task"
        install_dependencies(args.lock.resolve(), target)
        copy_service(args.source.resolve(), target)
        prune(target)
        compile_bytecode(target)
        write_zip(target, args.out.resolve())
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    size = os.path.getsize(args.out)
    print(
        f"{args.out} {size / 1_048_576:.1f} MiB sha256={digest} ({time.monotonic() - started:.1f}s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
