"""Regenerate the inputs/outputs tables of modules/*/README.md.

    python scripts/tf/module_docs.py          # rewrite the tables
    python scripts/tf/module_docs.py --check  # exit 1 when a README is out of date

A small reader for the layout the modules follow (one `variable`/`output` block per top-level
block, attributes one per line), so that `make test` can keep the tables current on machines
without terraform-docs. The markers are deliberately not terraform-docs' own
(BEGIN_TF_DOCS/END_TF_DOCS): terraform-docs renders differently, and CI checks its own markers.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BEGIN = "<!-- BEGIN_MODULE_DOCS -->"
END = "<!-- END_MODULE_DOCS -->"
BLOCK = re.compile(r'^(variable|output) "([^"]+)" \{\n(.*?)^\}', re.MULTILINE | re.DOTALL)
STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def attribute(body: str, name: str) -> str | None:
    """The raw expression of a top-level attribute, multi-line values included."""
    lines = body.splitlines()
    for index, line in enumerate(lines):
        match = re.match(rf"^  {name}\s*=\s*(.*)$", line)
        if not match:
            continue
        value = match.group(1)
        depth = value.count("(") + value.count("{") + value.count("[")
        depth -= value.count(")") + value.count("}") + value.count("]")
        extra = index + 1
        while depth > 0 and extra < len(lines):
            value += "\n" + lines[extra]
            depth += lines[extra].count("(") + lines[extra].count("{") + lines[extra].count("[")
            depth -= lines[extra].count(")") + lines[extra].count("}") + lines[extra].count("]")
            extra += 1
        return value.strip()
    return None


def cell(text: str) -> str:
    compact = " ".join(part.strip() for part in text.splitlines())
    return compact.replace("|", "\\|")


def code(text: str) -> str:
    return "`" + re.sub(r"\s+", " ", cell(text)) + "`"


def description(body: str) -> str:
    raw = attribute(body, "description") or '""'
    match = STRING.match(raw)
    return (match.group(1) if match else raw).replace('\\"', '"')


def tables(module: Path) -> str:
    variables = BLOCK.findall((module / "variables.tf").read_text())
    outputs = BLOCK.findall((module / "outputs.tf").read_text())
    rows = ["## Inputs", "", "| Name | Description | Type | Default | Required |"]
    rows.append("|------|-------------|------|---------|:--------:|")
    for _, name, body in variables:
        default = attribute(body, "default")
        type_ = attribute(body, "type") or "any"
        rows.append(
            f"| `{name}` | {cell(description(body))} | {code(type_)} | "
            f"{code(default) if default is not None else 'n/a'} | "
            f"{'no' if default is not None else 'yes'} |"
        )
    rows += ["", "## Outputs", "", "| Name | Description |", "|------|-------------|"]
    rows += [f"| `{name}` | {cell(description(body))} |" for _, name, body in outputs]
    return "\n".join(rows)


def render(readme: Path) -> str:
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{readme}: missing {BEGIN} / {END}")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{tables(readme.parent)}\n{END}{tail}"


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
