"""`make package` is reproducible and builds for the runtime the Terraform declares."""

from __future__ import annotations

import hashlib
import marshal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from scripts.artifact.archive import EM_AARCH64, parse_elf
from tests.imports import imported_names

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "services" / "ingest" / "src" / "ingest"
#: What never ships: the tools package, the runtime paths the tools moved out of, and the
#: distributions only the tools use (moto, pyyaml).
TOOL_PATHS = (
    "ingest_tools/",
    "ingest/cli/",
    "ingest/local/",
    "ingest/cost.py",
    "ingest/openapi.py",
    "moto/",
    "moto-",
    "yaml/",
    "_yaml/",
    "PyYAML-",
    "pyyaml-",
)
TOOL_MODULES = ("ingest_tools", "moto", "yaml")


def build(out: Path, source: Path) -> bytes:
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "package.py"),
            "--out",
            str(out),
            "--source",
            str(source),
        ],
        check=True,
        cwd=ROOT,
        timeout=600,
    )
    return out.read_bytes()


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real service package when present, else a stand-in with the same handler path."""
    if (SOURCE / "handler.py").exists():
        return SOURCE
    fake = tmp_path_factory.mktemp("src") / "ingest"
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "handler.py").write_text("def lambda_handler(event, context):\n    return {}\n")
    return fake


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory, source: Path) -> tuple[Path, bytes, bytes]:
    first_dir = tmp_path_factory.mktemp("first")
    second_dir = tmp_path_factory.mktemp("second")
    first = build(first_dir / "ingest.zip", source)
    second = build(second_dir / "ingest.zip", source)
    return first_dir / "ingest.zip", first, second


@pytest.mark.slow
def test_two_builds_are_byte_identical(builds: tuple[Path, bytes, bytes]) -> None:
    _, first, second = builds
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()


@pytest.mark.slow
def test_archive_layout(builds: tuple[Path, bytes, bytes]) -> None:
    path, _, _ = builds
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        assert names == sorted(names)
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert {(i.external_attr >> 16) & 0o777 for i in infos} == {0o644}
        assert "ingest/handler.py" in names
        assert "ingest/__pycache__/handler.cpython-311.pyc" in names
        # arm64 wheels only; no installer noise
        shared = [n for n in names if n.endswith(".so")]
        assert shared
        # Built for AArch64, whatever the file is called (abi3 extensions name no platform).
        assert all(parse_elf(zf.read(n)).machine == EM_AARCH64 for n in shared)
        assert not [n for n in names if n.endswith(("RECORD", "INSTALLER", ".pyi"))]
        # unchecked-hash pycs: flags == 0b01 (hash-based, not checked), paths under /var/task
        pyc = zf.read("ingest/__pycache__/handler.cpython-311.pyc")
        assert int.from_bytes(pyc[4:8], "little") == 0b01
        code = marshal.loads(pyc[16:])  # noqa: S302 - our own build output
        assert code.co_filename == "/var/task/ingest/handler.py"


@pytest.mark.slow
def test_the_archive_ships_the_runtime_and_no_tool_code(builds: tuple[Path, bytes, bytes]) -> None:
    path, _, _ = builds
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        sources = {
            name: zf.read(name).decode("utf-8")
            for name in names
            if name.startswith("ingest/") and name.endswith(".py")
        }
    assert [name for name in names if name.startswith(TOOL_PATHS)] == []
    tool_imports = sorted(
        f"{name} imports {imported}"
        for name, text in sources.items()
        for imported in imported_names(
            text, name.removesuffix(".py").replace("/", "."), runtime_only=False
        )
        if imported.split(".")[0] in TOOL_MODULES
    )
    assert tool_imports == []
