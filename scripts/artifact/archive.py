"""Static checks of the Lambda artifact: every compiled file is for the function's machine, and
every wheel in it was built for that platform; and what there is to import in it.

The function runs ``python3.11`` on ``arm64`` (docs/decisions/0004-packaging.md). A compiled file
built for another machine, or linked against a newer glibc than the runtime's, shows up only when
Lambda imports it (``invalid ELF header``, ``GLIBC_2.xx not found``, or, where a package falls
back to pure Python, not at all), so the archive is read without running anything:

* every ELF file (found by its magic, whatever its name) is 64-bit little-endian AArch64
  (``e_machine`` 183) and needs no glibc symbol version newer than the runtime's;
* an extension module (a shared object defining ``PyInit_*``) carries a file-name tag CPython 3.11
  on aarch64 loads: ``.cpython-311-aarch64-linux-gnu.so``, ``.abi3.so`` or a bare ``.so``;
* every ``*.dist-info/WHEEL`` has a tag that is pure Python, or manylinux for aarch64 within the
  runtime's glibc, for CPython 3.11 (``cp311``, ``abi3`` up to 3.11, or ``none``).

The checks return problems as sentences; an empty list means the archive passed.
"""

from __future__ import annotations

import re
import struct
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

ELF_MAGIC = b"\x7fELF"
EM_AARCH64 = 183
ELFCLASS64 = 2
ELFDATA2LSB = 1
SHT_DYNSYM = 11
SHT_GNU_VERNEED = 0x6FFFFFFE
SHN_UNDEF = 0

# Lambda's python3.11 runtime is built on Amazon Linux 2, whose glibc is 2.26.
RUNTIME_GLIBC = (2, 26)
PYTHON_TAG = "cp311"
PYTHON_MINOR = 11
MACHINE = "aarch64"
# What follows the module name in the file name of an extension module it loads.
EXTENSION_TAGS = (f"cpython-311-{MACHINE}-linux-gnu.so", "abi3.so", "so")

MACHINE_NAMES = {
    0: "none",
    3: "i386",
    8: "MIPS",
    20: "PowerPC",
    21: "PowerPC64",
    22: "s390",
    40: "ARM (32-bit)",
    62: "x86_64",
    183: "AArch64",
    243: "RISC-V",
}

_GLIBC = re.compile(r"^GLIBC_(\d+)\.(\d+)(?:\.(\d+))?$")
_MANYLINUX = re.compile(r"^manylinux_(\d+)_(\d+)_(\w+)$")
_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


class ElfError(ValueError):
    """The bytes are not an ELF file this module can read."""


@dataclass(frozen=True)
class ElfInfo:
    elf_class: int
    data: int
    machine: int
    # (library, version) pairs from .gnu.version_r, e.g. ("libc.so.6", "GLIBC_2.17").
    version_needs: tuple[tuple[str, str], ...] = ()
    # Dynamic symbols the file defines (not those it imports).
    exports: frozenset[str] = field(default_factory=frozenset)

    @property
    def machine_name(self) -> str:
        return MACHINE_NAMES.get(self.machine, f"e_machine {self.machine}")

    @property
    def glibc_needed(self) -> tuple[int, ...] | None:
        """The newest ``GLIBC_x.y`` symbol version the file needs, or None."""
        versions = [
            tuple(int(part) for part in found.groups() if part is not None)
            for _, name in self.version_needs
            if (found := _GLIBC.match(name))
        ]
        return max(versions) if versions else None

    @property
    def is_extension_module(self) -> bool:
        return any(name.startswith("PyInit_") for name in self.exports)


def is_elf(head: bytes) -> bool:
    return head[:4] == ELF_MAGIC


def _cstring(blob: bytes, offset: int) -> str:
    end = blob.find(b"\0", offset)
    if offset < 0 or offset >= len(blob) or end < 0:
        raise ElfError(f"string offset {offset} is outside its table")
    return blob[offset:end].decode("ascii", "replace")


def parse_elf(blob: bytes) -> ElfInfo:
    """Read the header and, for 64-bit little-endian files, the version needs and exports."""
    if len(blob) < 20 or not is_elf(blob):
        raise ElfError("not an ELF file")
    elf_class, data = blob[4], blob[5]
    if data not in (1, 2):
        raise ElfError(f"unknown ELF data encoding {data}")
    order = "<" if data == ELFDATA2LSB else ">"
    (machine,) = struct.unpack_from(order + "H", blob, 18)
    if elf_class != ELFCLASS64 or data != ELFDATA2LSB:
        return ElfInfo(elf_class, data, machine)  # wrong for Lambda anyway: no need to go further
    if len(blob) < 64:
        raise ElfError("truncated ELF header")
    (shoff,) = struct.unpack_from("<Q", blob, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", blob, 0x3A)
    if shoff == 0 or shnum == 0:
        return ElfInfo(elf_class, data, machine)
    if shentsize < 64 or shoff + shnum * shentsize > len(blob):
        raise ElfError("section headers lie outside the file")
    sections = [
        struct.unpack_from("<IIQQQQIIQQ", blob, shoff + index * shentsize) for index in range(shnum)
    ]

    def contents(index: int) -> bytes:
        if not 0 <= index < len(sections):
            raise ElfError(f"section {index} does not exist")
        offset, size = sections[index][4], sections[index][5]
        if offset + size > len(blob):
            raise ElfError(f"section {index} lies outside the file")
        return blob[offset : offset + size]

    needs: list[tuple[str, str]] = []
    exports: set[str] = set()
    for index, (_name, kind, *_rest, link, info, _align, entsize) in enumerate(sections):
        if kind == SHT_GNU_VERNEED:
            needs += _version_needs(contents(index), contents(link), info)
        elif kind == SHT_DYNSYM:
            table, strings = contents(index), contents(link)
            step = entsize or 24
            for start in range(0, len(table) - step + 1, step):
                st_name, _info, _other, shndx = struct.unpack_from("<IBBH", table, start)
                if st_name and shndx != SHN_UNDEF:
                    exports.add(_cstring(strings, st_name))
    return ElfInfo(elf_class, data, machine, tuple(needs), frozenset(exports))


def _version_needs(table: bytes, strings: bytes, count: int) -> Iterator[tuple[str, str]]:
    """Walk Elf64_Verneed entries and their Elf64_Vernaux lists."""
    offset = 0
    for _ in range(count):
        if offset + 16 > len(table):
            raise ElfError(".gnu.version_r is truncated")
        _version, aux_count, file_name, aux, following = struct.unpack_from("<HHIII", table, offset)
        library = _cstring(strings, file_name)
        aux_offset = offset + aux
        for _ in range(aux_count):
            if aux_offset + 16 > len(table):
                raise ElfError(".gnu.version_r is truncated")
            _hash, _flags, _other, name, aux_next = struct.unpack_from("<IHHII", table, aux_offset)
            yield library, _cstring(strings, name)
            if not aux_next:
                break
            aux_offset += aux_next
        if not following:
            break
        offset += following


def elf_problems(name: str, blob: bytes) -> list[str]:
    """Why the ELF file ``name`` cannot run in the arm64 python3.11 runtime (empty: it can)."""
    try:
        info = parse_elf(blob)
    except ElfError as exc:
        return [f"{name}: unreadable ELF file ({exc})"]
    return info_problems(name, info)


def info_problems(name: str, info: ElfInfo) -> list[str]:
    problems: list[str] = []
    if info.machine != EM_AARCH64:
        problems.append(f"{name}: built for {info.machine_name}, not AArch64 (e_machine 183)")
    if info.elf_class != ELFCLASS64 or info.data != ELFDATA2LSB:
        problems.append(f"{name}: not a 64-bit little-endian ELF file")
    glibc = info.glibc_needed
    if glibc is not None and glibc > RUNTIME_GLIBC:
        wanted = ".".join(map(str, glibc))
        runtime = ".".join(map(str, RUNTIME_GLIBC))
        problems.append(f"{name}: needs glibc {wanted}, newer than the runtime's {runtime}")
    if info.is_extension_module:
        tag = name.rpartition("/")[2].partition(".")[2]
        if tag not in EXTENSION_TAGS:
            problems.append(
                f"{name}: an extension module CPython 3.11 on aarch64 does not load"
                f" (the tag {tag!r} is not one of {', '.join(EXTENSION_TAGS)})"
            )
    return problems


def _platform_ok(platform: str) -> bool:
    if platform == "any":
        return True
    legacy = platform.rsplit("_", 1)
    if len(legacy) == 2 and legacy[0] in _LEGACY_MANYLINUX:
        return legacy[1] == MACHINE and _LEGACY_MANYLINUX[legacy[0]] <= RUNTIME_GLIBC
    found = _MANYLINUX.match(platform)
    if found is None:
        return False
    major, minor, arch = int(found.group(1)), int(found.group(2)), found.group(3)
    return arch == MACHINE and (major, minor) <= RUNTIME_GLIBC


def _abi_ok(interpreter: str, abi: str) -> bool:
    if abi == "none":
        return True
    if abi == PYTHON_TAG:
        return interpreter == PYTHON_TAG
    if abi == "abi3":
        found = re.fullmatch(r"cp3(\d+)", interpreter)
        return found is not None and int(found.group(1)) <= PYTHON_MINOR
    return False


def wheel_tag_problems(name: str, text: str) -> list[str]:
    """Why the wheel whose ``WHEEL`` file is ``text`` is not for arm64 python3.11 (empty: it is).

    A wheel lists every tag it satisfies; one tag the runtime accepts is enough.
    """
    tags = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Tag:")]
    if not tags:
        return [f"{name}: no Tag lines"]
    for tag in tags:
        parts = tag.split("-")
        if len(parts) == 3 and _platform_ok(parts[2]) and _abi_ok(parts[0], parts[1]):
            return []
    return [
        f"{name}: no tag for CPython 3.11 on manylinux aarch64 (glibc <= 2.26): {', '.join(tags)}"
    ]


@dataclass
class ArchiveReport:
    """What the static pass found in an artifact."""

    problems: list[str] = field(default_factory=list)
    elf_files: list[str] = field(default_factory=list)
    extension_modules: list[str] = field(default_factory=list)  # dotted module names
    top_level: list[str] = field(default_factory=list)  # importable top-level names
    # Every module of the given package (the service's own): all of them must import.
    package_modules: list[str] = field(default_factory=list)
    wheels: list[str] = field(default_factory=list)  # "name-version" of each dist-info


def module_name(path: str) -> str:
    """``pkg/_ext.cpython-311-aarch64-linux-gnu.so`` -> ``pkg._ext``."""
    parent, _, file_name = path.rpartition("/")
    stem = file_name.split(".", 1)[0]
    return ".".join([*parent.split("/"), stem]) if parent else stem


def top_level_names(names: Iterable[str]) -> list[str]:
    """Importable top-level packages and modules of an archive laid out like /var/task."""
    found: set[str] = set()
    for name in names:
        head, sep, rest = name.partition("/")
        if sep:
            if (
                rest == "__init__.py"
                and head.isidentifier()
                and not head.endswith((".dist-info", ".data", ".libs"))
            ):
                found.add(head)
        elif name.endswith(".py") and name[:-3].isidentifier():
            found.add(name[:-3])
    return sorted(found)


def package_modules(names: Iterable[str], package: str) -> list[str]:
    """Dotted names of the Python modules of ``package`` (``__main__`` modules excluded)."""
    found: set[str] = set()
    for name in names:
        if not name.startswith(f"{package}/") or not name.endswith(".py"):
            continue
        parts = name[:-3].split("/")
        if parts[-1] == "__init__":
            parts.pop()
        if parts[-1] != "__main__" and all(part.isidentifier() for part in parts):
            found.add(".".join(parts))
    return sorted(found)


def check_archive(archive: zipfile.ZipFile, package: str = "ingest") -> ArchiveReport:
    """Check every file of ``archive``; ``package`` is the service's own package."""
    report = ArchiveReport()
    names = [info.filename for info in archive.infolist() if not info.is_dir()]
    for name in names:
        with archive.open(name) as handle:
            head = handle.read(4)
        if name.endswith("/WHEEL") and name.count("/") == 1 and ".dist-info/" in name:
            report.wheels.append(name.split("/", 1)[0].removesuffix(".dist-info"))
            text = archive.read(name).decode("utf-8", "replace")
            report.problems += wheel_tag_problems(name, text)
        if not is_elf(head):
            if name.endswith(".so") or ".so." in name.rpartition("/")[2]:
                report.problems.append(f"{name}: named like a shared object but not an ELF file")
            continue
        report.elf_files.append(name)
        try:
            info = parse_elf(archive.read(name))
        except ElfError as exc:
            report.problems.append(f"{name}: unreadable ELF file ({exc})")
            continue
        report.problems += info_problems(name, info)
        if info.is_extension_module:
            report.extension_modules.append(module_name(name))
    report.top_level = top_level_names(names)
    report.package_modules = package_modules(names, package)
    return report
