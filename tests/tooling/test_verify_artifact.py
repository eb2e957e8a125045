"""`make verify-artifact` (scripts/artifact/): the static checks on hand-built ELF files, wheel
tags and archives; the lock of the aarch64 interpreter; and, where that interpreter is installed
(`make artifact-sysroot`), the whole check on a fresh build and on a broken copy of it, which
must fail. See docs/decisions/0024-verify-artifact.md.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import platform
import struct
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from scripts.artifact import archive, sysroot, verify

ROOT = Path(__file__).resolve().parents[2]
EM_X86_64 = 62
EM_ARM = 40

# --------------------------------------------------------------------------------------------
# Tiny ELF files, built here: a 64-byte header, and optionally .dynstr, .gnu.version_r and
# .dynsym sections (what the checks read).


def elf_header(
    machine: int, *, elf_class: int = 2, data: int = 1, shoff: int = 0, shnum: int = 0
) -> bytes:
    order = "<" if data == 1 else ">"
    ident = b"\x7fELF" + bytes([elf_class, data, 1]) + bytes(9)
    return ident + struct.pack(
        order + "HHIQQQIHHHHHH", 3, machine, 1, 0, 0, shoff, 0, 64, 0, 0, 64, shnum, 0
    )


def make_elf(
    machine: int = archive.EM_AARCH64,
    *,
    elf_class: int = 2,
    data: int = 1,
    needs: Iterable[tuple[str, Iterable[str]]] = (),
    exports: Iterable[str] = (),
    imports: Iterable[str] = (),
) -> bytes:
    need_list = [(library, list(versions)) for library, versions in needs]
    exports, imports = list(exports), list(imports)
    if elf_class != 2 or data != 1 or not (need_list or exports or imports):
        return elf_header(machine, elf_class=elf_class, data=data)

    strings = bytearray(b"\0")
    offsets: dict[str, int] = {}

    def string(text: str) -> int:
        if text not in offsets:
            offsets[text] = len(strings)
            strings.extend(text.encode() + b"\0")
        return offsets[text]

    verneed = bytearray()
    for number, (library, versions) in enumerate(need_list):
        last = number == len(need_list) - 1
        following = 0 if last else 16 + 16 * len(versions)
        verneed += struct.pack("<HHIII", 1, len(versions), string(library), 16, following)
        for index, version in enumerate(versions):
            aux_next = 0 if index == len(versions) - 1 else 16
            verneed += struct.pack("<IHHII", 0, 0, index + 2, string(version), aux_next)
    dynsym = bytearray(24)  # the null symbol
    for name in exports:
        dynsym += struct.pack("<IBBHQQ", string(name), 0x12, 0, 7, 0, 0)
    for name in imports:
        dynsym += struct.pack("<IBBHQQ", string(name), 0x12, 0, 0, 0, 0)

    body = bytearray()
    placed = []
    for blob in (bytes(strings), bytes(verneed), bytes(dynsym)):
        placed.append((64 + len(body), len(blob)))
        body += blob
    shoff = 64 + len(body)
    (str_off, str_size), (ver_off, ver_size), (sym_off, sym_size) = placed
    sections = [
        bytes(64),
        struct.pack("<IIQQQQIIQQ", 0, 3, 0, 0, str_off, str_size, 0, 0, 1, 0),
        struct.pack(
            "<IIQQQQIIQQ",
            0,
            archive.SHT_GNU_VERNEED,
            0,
            0,
            ver_off,
            ver_size,
            1,
            len(need_list),
            8,
            0,
        ),
        struct.pack("<IIQQQQIIQQ", 0, archive.SHT_DYNSYM, 0, 0, sym_off, sym_size, 1, 1, 8, 24),
    ]
    return elf_header(machine, shoff=shoff, shnum=len(sections)) + bytes(body) + b"".join(sections)


LIBC_217 = [("libc.so.6", ["GLIBC_2.17"]), ("libpthread.so.0", ["GLIBC_2.17"])]


def test_an_aarch64_shared_object_passes() -> None:
    blob = make_elf(needs=LIBC_217, exports=["PyInit__speedups"])
    assert archive.elf_problems("pkg/_speedups.cpython-311-aarch64-linux-gnu.so", blob) == []


def test_an_x86_64_shared_object_fails() -> None:
    problems = archive.elf_problems("pkg/_speedups.so", make_elf(EM_X86_64))
    assert problems == ["pkg/_speedups.so: built for x86_64, not AArch64 (e_machine 183)"]


def test_an_x86_64_object_with_sections_fails_too() -> None:
    blob = make_elf(EM_X86_64, needs=LIBC_217, exports=["PyInit__speedups"])
    assert archive.parse_elf(blob).machine == EM_X86_64
    problems = archive.elf_problems("pkg/_speedups.cpython-311-aarch64-linux-gnu.so", blob)
    assert [p for p in problems if "built for x86_64" in p]


@pytest.mark.parametrize(
    ("blob", "expected"),
    [
        (make_elf(EM_ARM, elf_class=1), "built for ARM (32-bit)"),
        (make_elf(EM_ARM, elf_class=1), "not a 64-bit little-endian ELF file"),
        (make_elf(elf_class=2, data=2), "not a 64-bit little-endian ELF file"),
        (make_elf(9999), "built for e_machine 9999"),
    ],
    ids=["arm32-machine", "arm32-class", "big-endian", "unknown-machine"],
)
def test_other_machines_and_encodings_fail(blob: bytes, expected: str) -> None:
    assert any(expected in p for p in archive.elf_problems("lib/x.so", blob))


def test_a_big_endian_header_is_read_big_endian() -> None:
    assert archive.parse_elf(make_elf(EM_X86_64, data=2)).machine == EM_X86_64


def test_a_glibc_newer_than_the_runtime_fails() -> None:
    blob = make_elf(needs=[("libc.so.6", ["GLIBC_2.17", "GLIBC_2.28", "GLIBC_PRIVATE"])])
    assert archive.parse_elf(blob).glibc_needed == (2, 28)
    assert archive.elf_problems("lib/x.so", blob) == [
        "lib/x.so: needs glibc 2.28, newer than the runtime's 2.26"
    ]
    at_limit = make_elf(needs=[("libc.so.6", ["GLIBC_2.2.5", "GLIBC_2.26"]), ("libm.so.6", [])])
    assert archive.elf_problems("lib/x.so", at_limit) == []


def test_extension_module_tags_must_be_loadable_by_cpython_311_on_aarch64() -> None:
    module = make_elf(exports=["PyInit__fast"])
    for good in ("_fast.cpython-311-aarch64-linux-gnu.so", "_fast.abi3.so", "_fast.so"):
        assert archive.elf_problems(f"pkg/{good}", module) == [], good
    for bad in ("_fast.cpython-312-aarch64-linux-gnu.so", "_fast.cpython-311-x86_64-linux-gnu.so"):
        assert archive.elf_problems(f"pkg/{bad}", module), bad
    # A plain shared library (no PyInit_ it defines) may be named anything.
    library = make_elf(exports=["helper"], imports=["PyInit_not_mine"])
    assert not archive.parse_elf(library).is_extension_module
    assert archive.elf_problems("pkg.libs/libhelper-1a2b3c.so.1.2", library) == []


@pytest.mark.parametrize(
    "blob",
    [b"\x7fELF\x02\x01", b"\x7fELF\x02\x07" + bytes(60), make_elf(needs=LIBC_217)[:200]],
    ids=["short", "bad-encoding", "truncated-sections"],
)
def test_a_malformed_elf_file_is_a_problem_not_a_crash(blob: bytes) -> None:
    assert "unreadable ELF file" in archive.elf_problems("x.so", blob)[0]


def test_a_real_shared_object_is_read_like_the_linker_wrote_it() -> None:
    import pydantic_core._pydantic_core as compiled

    info = archive.parse_elf(Path(compiled.__file__).read_bytes())
    expected = {"x86_64": EM_X86_64, "aarch64": archive.EM_AARCH64}.get(platform.machine())
    assert expected is None or info.machine == expected
    assert "PyInit__pydantic_core" in info.exports
    assert info.glibc_needed is not None
    assert info.glibc_needed >= (2, 2)
    assert ("libc.so.6", f"GLIBC_{'.'.join(map(str, info.glibc_needed))}") in info.version_needs


# --------------------------------------------------------------------------------------------
# Wheel tags


@pytest.mark.parametrize(
    "tags",
    [
        ["py3-none-any"],
        ["py2-none-any", "py3-none-any"],
        ["cp311-cp311-manylinux_2_17_aarch64", "cp311-cp311-manylinux2014_aarch64"],
        ["cp311-cp311-manylinux_2_17_aarch64", "cp311-cp311-manylinux_2_28_aarch64"],
        ["cp38-abi3-manylinux_2_17_aarch64"],
        ["cp311-cp311-manylinux_2_26_aarch64"],
    ],
)
def test_wheels_for_arm64_python311_pass(tags: list[str]) -> None:
    text = "Wheel-Version: 1.0\n" + "".join(f"Tag: {t}\n" for t in tags)
    assert archive.wheel_tag_problems("w.dist-info/WHEEL", text) == []


@pytest.mark.parametrize(
    "tags",
    [
        ["cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-manylinux2014_x86_64"],
        ["cp311-cp311-manylinux_2_28_aarch64"],
        ["cp311-cp311-musllinux_1_2_aarch64"],
        ["cp312-cp312-manylinux_2_17_aarch64"],
        ["cp312-abi3-manylinux_2_17_aarch64"],
        ["cp311-cp311-macosx_11_0_arm64"],
        ["cp311-cp311-win_amd64"],
        ["cp311-cp311-linux_aarch64"],
    ],
)
def test_wheels_for_anything_else_fail(tags: list[str]) -> None:
    text = "Wheel-Version: 1.0\n" + "".join(f"Tag: {t}\n" for t in tags)
    problems = archive.wheel_tag_problems("w.dist-info/WHEEL", text)
    assert len(problems) == 1
    assert tags[0] in problems[0]


def test_a_wheel_without_tags_fails() -> None:
    assert archive.wheel_tag_problems("w.dist-info/WHEEL", "Wheel-Version: 1.0\n")


# --------------------------------------------------------------------------------------------
# Whole archives


def zip_of(files: dict[str, bytes]) -> zipfile.ZipFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, blob in files.items():
            zf.writestr(name, blob)
    return zipfile.ZipFile(io.BytesIO(buffer.getvalue()))


GOOD_WHEEL = b"Wheel-Version: 1.0\nTag: cp311-cp311-manylinux_2_17_aarch64\n"
X86_WHEEL = b"Wheel-Version: 1.0\nTag: cp311-cp311-manylinux_2_17_x86_64\n"


def test_an_archive_of_arm64_wheels_passes_and_lists_what_to_import() -> None:
    report = archive.check_archive(
        zip_of(
            {
                "ingest/__init__.py": b"",
                "ingest/handler.py": b"",
                "ingest/cli/__init__.py": b"",
                "ingest/cli/__main__.py": b"",
                "ingest/__pycache__/handler.cpython-311.pyc": b"",
                "fast/__init__.py": b"",
                "fast/_core.cpython-311-aarch64-linux-gnu.so": make_elf(
                    needs=LIBC_217, exports=["PyInit__core"]
                ),
                "fast.libs/libz-1a2b.so.1": make_elf(needs=LIBC_217, exports=["inflate"]),
                "fast-1.0.dist-info/WHEEL": GOOD_WHEEL,
                "six.py": b"",
            }
        )
    )
    assert report.problems == []
    assert report.elf_files == [
        "fast/_core.cpython-311-aarch64-linux-gnu.so",
        "fast.libs/libz-1a2b.so.1",
    ]
    assert report.extension_modules == ["fast._core"]
    assert report.top_level == ["fast", "ingest", "six"]
    assert report.package_modules == ["ingest", "ingest.cli", "ingest.handler"]
    assert report.wheels == ["fast-1.0"]


def test_an_archive_with_an_x86_64_wheel_fails_whatever_its_file_names_say() -> None:
    report = archive.check_archive(
        zip_of(
            {
                "fast/__init__.py": b"",
                # named for aarch64, built for x86_64
                "fast/_core.cpython-311-aarch64-linux-gnu.so": make_elf(
                    EM_X86_64, exports=["PyInit__core"]
                ),
                # not named like a shared object at all
                "fast/bin/helper": make_elf(EM_X86_64),
                "fast-1.0.dist-info/WHEEL": X86_WHEEL,
                # named like one, but is not
                "other/_stub.so": b"not an ELF file",
            }
        )
    )
    assert sorted(report.problems) == [
        "fast-1.0.dist-info/WHEEL: no tag for CPython 3.11 on manylinux aarch64 (glibc <= 2.26):"
        " cp311-cp311-manylinux_2_17_x86_64",
        "fast/_core.cpython-311-aarch64-linux-gnu.so: built for x86_64, not AArch64 (e_machine 183)",
        "fast/bin/helper: built for x86_64, not AArch64 (e_machine 183)",
        "other/_stub.so: named like a shared object but not an ELF file",
    ]


# --------------------------------------------------------------------------------------------
# The lock of the aarch64 interpreter


def test_the_committed_lock_pins_every_package_with_its_hash() -> None:
    lock = sysroot.parse_lock(sysroot.LOCK.read_text(encoding="utf-8"))
    assert lock.suite == "bookworm"
    assert {p.name for p in lock.guest} == set(sysroot.GUEST_PACKAGES)
    assert {p.arch for p in lock.guest} == {"arm64"}
    assert lock.emulator.arch == "amd64"
    python = next(p for p in lock.pins if p.name == "python3.11-minimal")
    assert python.version.startswith("3.11.")
    for pin in lock.pins:
        assert len(pin.sha256) == 64
        assert int(pin.sha256, 16) >= 0  # hexadecimal
        assert pin.size > 0


def test_the_lock_round_trips_and_its_digest_ignores_comments() -> None:
    text = sysroot.LOCK.read_text(encoding="utf-8")
    lock = sysroot.parse_lock(text)
    assert sysroot.format_lock(lock) == text
    commented = sysroot.parse_lock("# another comment\n" + text)
    assert sysroot.lock_digest(commented) == sysroot.lock_digest(lock)
    repinned = sysroot.Lock(
        lock.suite, (*lock.pins[:-1], dataclasses.replace(lock.pins[-1], size=1))
    )
    assert sysroot.lock_digest(repinned) != sysroot.lock_digest(lock)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("python3.11-minimal arm64 3.11.2 12\n# suite: bookworm\n", "expected 'name arch"),
        ("libc6 arm64 2.36 1 " + "0" * 64 + "\n", "no '# suite:' line"),
        ("# suite: bookworm\nlibc6 arm64 2.36 1 " + "0" * 64 + "\n", "lacks python3.11-minimal"),
    ],
)
def test_a_broken_lock_is_refused(text: str, expected: str) -> None:
    with pytest.raises(sysroot.SysrootError, match=expected):
        sysroot.parse_lock(text)


def test_the_guest_runs_under_qemu_with_the_sysroot_as_its_root(tmp_path: Path) -> None:
    assert sysroot.guest_command(tmp_path) == [
        f"{tmp_path}/bin/qemu-aarch64-static",
        "-L",
        f"{tmp_path}/root",
        f"{tmp_path}/root/usr/bin/python3.11",
    ]


# --------------------------------------------------------------------------------------------
# Events and the guest's report


def test_the_events_are_api_gateway_http_api_payload_2() -> None:
    event = verify.api_event("POST", "/events", '{"type": "a"}')
    assert event["version"] == "2.0"
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "ANY /events"
    assert event["rawPath"] == event["requestContext"]["http"]["path"] == "/events"
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["headers"]["content-type"] == "application/json"
    assert event["body"] == '{"type": "a"}'
    assert event["isBase64Encoded"] is False
    health = verify.api_event("GET", "/health")
    assert health["routeKey"] == "ANY /health"
    assert "body" not in health


def guest_result(**changes: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "machine": "aarch64",
        "python": [3, 11, 2],
        "invocations": [
            {"routeKey": "ANY /health", "response": {"statusCode": 200, "body": '{"status":"ok"}'}},
            {
                "routeKey": "ANY /events",
                "response": {"statusCode": 202, "body": '{"event_id":"e1","received_at":"t"}'},
            },
        ],
        "import_errors": {},
    }
    result.update(changes)
    return result


EVENTS = [verify.api_event("GET", "/health"), verify.api_event("POST", "/events", "{}")]


def test_a_good_guest_report_passes() -> None:
    assert verify.check_invocations(guest_result(), EVENTS) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"machine": "x86_64"}, "not aarch64 CPython 3.11"),
        ({"python": [3, 12, 0]}, "not aarch64 CPython 3.11"),
        ({"handler_error": "ModuleNotFoundError: jmespath"}, "importing ingest.handler"),
        ({"invocations": []}, "0 invocations reported for 2 events"),
    ],
)
def test_a_bad_guest_report_fails(changes: dict[str, Any], expected: str) -> None:
    problems = verify.check_invocations(guest_result(**changes), EVENTS)
    assert any(expected in p for p in problems), problems


def test_wrong_answers_fail() -> None:
    result = guest_result()
    result["invocations"][0]["response"] = {"statusCode": 500, "body": "{}"}
    result["invocations"][1] = {"routeKey": "ANY /events", "error": "Traceback ..."}
    problems = verify.check_invocations(result, EVENTS)
    assert problems[0].startswith("GET /health answered 500")
    assert problems[1].startswith("POST /events raised")


# --------------------------------------------------------------------------------------------
# End to end, under the aarch64 interpreter (installed by `make artifact-sysroot`)

needs_sysroot = pytest.mark.skipif(
    not (sysroot.TOOLS / ".installed").is_file(),
    reason="no aarch64 interpreter in .tools/arm64-sysroot (make artifact-sysroot)",
)


def run_verify(artifact: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scripts.artifact.verify", "--artifact", str(artifact)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("artifact") / "ingest.zip"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "package.py"), "--out", str(out)],
        cwd=ROOT,
        check=True,
        timeout=600,
    )
    return out


@pytest.mark.slow
@needs_sysroot
def test_the_built_artifact_serves_under_aarch64_python311(built: Path) -> None:
    run = run_verify(built)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "guest: aarch64 Python 3.11." in run.stdout
    assert "ANY /health 200" in run.stdout
    assert "ANY /events 202" in run.stdout
    assert "read back from the host" in run.stdout


@pytest.mark.slow
@needs_sysroot
def test_an_x86_64_extension_and_a_missing_module_fail(built: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(built) as source, zipfile.ZipFile(broken, "w") as target:
        names = source.namelist()
        extension = next(n for n in names if n.startswith("pydantic_core/") and n.endswith(".so"))
        for info in source.infolist():
            if info.filename.startswith("jmespath/"):
                continue  # a dependency left out
            blob = source.read(info.filename)
            if info.filename == extension:  # the right name, the wrong machine
                blob = make_elf(EM_X86_64, needs=LIBC_217, exports=["PyInit__pydantic_core"])
            target.writestr(copy.copy(info), blob)
    run = run_verify(broken)
    assert run.returncode == 1, run.stdout
    assert f"FAIL {extension}: built for x86_64" in run.stdout
    assert "FAIL importing ingest.handler.lambda_handler failed" in run.stdout
    assert "No module named 'jmespath'" in run.stdout
    assert f"FAIL import {extension.split('.')[0].replace('/', '.')} failed" in run.stdout
