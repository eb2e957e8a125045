"""Regenerate the Requirements, Inputs and Outputs tables of modules/*/README.md.

    python scripts/tf/module_docs.py          # rewrite the tables
    python scripts/tf/module_docs.py --check  # exit 1 when a README is out of date

The tables sit between terraform-docs' own markers (<!-- BEGIN_TF_DOCS --> / <!-- END_TF_DOCS -->)
and are byte for byte what terraform-docs (the version .terraform-docs.yml names) writes there with
that configuration: `make test` keeps them current on machines without terraform-docs, and CI runs
terraform-docs itself on the same markers (scripts/ci/tf_docs_check.py). What this renders, as
terraform-docs does: inputs and outputs in the order of their files, the type as written, the
default as JSON, one-line code for multi-line values, '|' escaped outside code.

It reads the layout the modules follow (one `variable`/`output` block per top-level block in
variables.tf and outputs.tf, attributes one per line, defaults that are literals); anything else
is an error rather than a guess.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    from scripts.tf import hcl
except ModuleNotFoundError:  # run as a script: python scripts/tf/module_docs.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from scripts.tf import hcl

ROOT = Path(__file__).resolve().parents[2]
BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"
BLOCK = re.compile(r'^(variable|output) "([^"]+)" \{\n(.*?)^\}', re.MULTILINE | re.DOTALL)
TERRAFORM_BLOCK = re.compile(r"^terraform \{\n(.*?)^\}", re.MULTILINE | re.DOTALL)
FENCE = "```"


def attribute(body: str, name: str) -> str | None:
    """The raw source of a top-level attribute's expression, multi-line values included."""
    lines = body.splitlines()
    for index, line in enumerate(lines):
        match = re.match(rf"^  {name}\s*=\s*(.*)$", line)
        if not match:
            continue
        value = match.group(1)
        depth = sum(value.count(c) for c in "({[") - sum(value.count(c) for c in ")}]")
        extra = index + 1
        while depth > 0 and extra < len(lines):
            value += "\n" + lines[extra]
            depth += sum(lines[extra].count(c) for c in "({[")
            depth -= sum(lines[extra].count(c) for c in ")}]")
            extra += 1
        return value.strip()
    return None


# ---- terraform-docs' markdown sanitizing (template/sanitizer.go, format/util.go) ----------------


def segments(text: str, prefix: str, normal: Callable[[str], str], code: Callable[..., str]) -> str:
    """processSegments: alternate plain and code segments split on `prefix` (empty ones skipped)."""
    in_code = text.startswith(prefix)
    parts = text.split(prefix)
    out = []
    for index, part in enumerate(parts):
        if not part:
            continue
        first = index == 0 or not parts[index - 1].strip()
        last = index == len(parts) - 1 or not parts[index + 1].strip()
        out.append(code(part, first, last) if in_code else normal(part))
        in_code = not in_code
    return "".join(out)


def escape_pipes(text: str) -> str:
    return segments(text, "`", lambda s: s.replace("|", "\\|"), lambda s, *_: f"`{s}`")


def one_line_text(text: str) -> str:
    """ConvertMultiLineText for a table without HTML: line breaks become spaces."""
    text = text.strip()
    text = re.sub(r"(\S*)(\r?\n)(\s*)(\w+)", r"\1  \2\3\4", text, flags=re.ASCII)
    text = text.replace("    \n", "  \n").replace("  \n\n", "\n\n").replace("\n  \n", "\n\n")
    return text.replace("  \n", " ").replace("\n", " ")


def one_line_code(text: str) -> str:
    """ConvertOneLineCodeBlock: blank lines dropped, ' = ' around '=', lines joined by a space."""
    lines = [re.sub(r"\s*=\s*", " = ", line).lstrip() for line in text.split("\n") if line.strip()]
    return " ".join(lines)


def code_block(text: str, first: bool, last: bool) -> str:
    start = FENCE if first else " " + FENCE
    end = FENCE if last else FENCE + " "
    return start + one_line_code(text.strip()).replace("\r", "") + end


def table_cell(text: str) -> str:
    """SanitizeMarkdownTable with escape and html off (.terraform-docs.yml)."""
    if not text:
        return "n/a"
    return segments(text, FENCE, lambda s: one_line_text(escape_pipes(s)), code_block)


def fenced(code: str) -> str:
    """PrintFencedCodeBlock."""
    return f"\n\n{FENCE}\n{code}\n{FENCE}\n" if "\n" in code else f"`{code}`"


def go_json(value: Any) -> str:
    """encoding/json with two-space indent, HTML left unescaped (Input.GetValue)."""

    def number(item: Any) -> Any:
        if isinstance(item, float) and item.is_integer():
            return int(item)  # Go prints a float64 without a fraction as an integer
        if isinstance(item, list):
            return [number(i) for i in item]
        if isinstance(item, dict):
            return {k: number(v) for k, v in item.items()}
        return item

    return json.dumps(number(value), indent=2, ensure_ascii=False, sort_keys=True)


# ---- The tables --------------------------------------------------------------------------------


def description(body: str) -> str:
    raw = attribute(body, "description")
    return "" if raw is None else str(hcl.value(raw))


def inputs(module: Path) -> list[str]:
    rows = [
        "## Inputs",
        "",
        "| Name | Description | Type | Default | Required |",
        "|------|-------------|------|---------|:--------:|",
    ]
    for _, name, body in BLOCK.findall((module / "variables.tf").read_text()):
        type_ = attribute(body, "type") or "any"
        if type_.startswith('"'):
            type_ = str(hcl.value(type_))  # the type as a string, as Terraform 0.11 wrote it
        default = attribute(body, "default")
        shown = "n/a" if default is None else table_cell(fenced(go_json(hcl.value(default))))
        rows.append(
            f"| {name} | {table_cell(description(body))} | {table_cell(fenced(type_))} | "
            f"{shown} | {'yes' if default is None else 'no'} |"
        )
    return rows


def outputs(module: Path) -> list[str]:
    rows = ["## Outputs", "", "| Name | Description |", "|------|-------------|"]
    for _, name, body in BLOCK.findall((module / "outputs.tf").read_text()):
        rows.append(f"| {name} | {table_cell(description(body))} |")
    return rows


def requirements(module: Path) -> list[str]:
    block = TERRAFORM_BLOCK.search((module / "versions.tf").read_text())
    if not block:
        raise SystemExit(f"{module}/versions.tf: no terraform block")
    core = re.search(r'^  required_version\s*=\s*"([^"]+)"', block.group(1), re.MULTILINE)
    # `name = { source = "...", version = "..." }`, on one line or over several.
    providers = re.findall(
        r'\b([a-z0-9_-]+) = \{\s*(?:#.*\n\s*)*source\s*=\s*"[^"]+",?\s*(?:#.*\n\s*)*version\s*=\s*"([^"]+)"',
        block.group(1),
    )
    rows = ["## Requirements", "", "| Name | Version |", "|------|---------|"]
    if core:
        rows.append(f"| terraform | {core.group(1)} |")
    rows += [f"| {name} | {version} |" for name, version in sorted(providers)]
    return rows


def content(module: Path) -> str:
    return "\n\n".join(
        "\n".join(part) for part in (requirements(module), inputs(module), outputs(module))
    )


def render(readme: Path) -> str:
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{readme}: missing {BEGIN} / {END}")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{content(readme.parent)}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a README is stale")
    args = parser.parse_args(argv)
    stale = []
    for readme in sorted(ROOT.glob("modules/*/README.md")):
        wanted = render(readme)
        if readme.read_text() != wanted:
            stale.append(readme.relative_to(ROOT))
            if not args.check:
                readme.write_text(wanted)
    if args.check and stale:
        print("stale module READMEs (run scripts/tf/module_docs.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
