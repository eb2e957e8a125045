"""scripts/tf/module_docs.py renders what terraform-docs 0.20 renders (markdown table, the settings
of .terraform-docs.yml): the expected rows are terraform-docs' own output for the same variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.tf import hcl, module_docs

VARIABLES = """variable "list-1" {
  type        = list
  default     = ["a", "b", "c"]
  description = "It's list number one."
}

variable "input-with-pipe" {
  type        = string
  default     = "v1"
  description = "It includes v1 | v2 | v3"
}

variable "long_type" {
  type = object({
    name = string,
    foo  = object({ foo = string, bar = string }),
    fizz = list(string)
  })
  default = {
    name = "hello"
    foo = {
      foo = "foo"
      bar = "foo"
    }
    fizz = []
  }
  description = "A long type."
}

variable "string_default_null" {
  type    = string
  default = null
}

variable "string_no_default" {
  type = string
}

variable "number-4" {
  type    = number
  default = 15.75
}

variable "special" {
  type    = string
  default = "\\\\.<>[]{}_-"
}
"""
OUTPUTS = """output "unquoted" {
  description = "It's unquoted output."
  value       = 1
}

output "no-description" {
  value = 2
}
"""
VERSIONS = """terraform {
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # A comment.
      version = ">= 5.32.0"
    }
  }
}
"""
EXPECTED = """## Requirements

| Name | Version |
|------|---------|
| terraform | >= 1.11.0 |
| aws | >= 5.32.0 |

## Inputs

| Name | Description | Type | Default | Required |
|------|-------------|------|---------|:--------:|
| list-1 | It's list number one. | `list` | ```[ "a", "b", "c" ]``` | no |
| input-with-pipe | It includes v1 \\| v2 \\| v3 | `string` | `"v1"` | no |
| long_type | A long type. | ```object({ name = string, foo = object({ foo = string, bar = string }), fizz = list(string) })``` | ```{ "fizz": [], "foo": { "bar": "foo", "foo": "foo" }, "name": "hello" }``` | no |
| string_default_null | n/a | `string` | `null` | no |
| string_no_default | n/a | `string` | n/a | yes |
| number-4 | n/a | `number` | `15.75` | no |
| special | n/a | `string` | `"\\\\.<>[]{}_-"` | no |

## Outputs

| Name | Description |
|------|-------------|
| unquoted | It's unquoted output. |
| no-description | n/a |"""


@pytest.fixture
def module(tmp_path: Path) -> Path:
    (tmp_path / "variables.tf").write_text(VARIABLES)
    (tmp_path / "outputs.tf").write_text(OUTPUTS)
    (tmp_path / "versions.tf").write_text(VERSIONS)
    return tmp_path


def test_the_section_is_what_terraform_docs_writes(module: Path) -> None:
    assert module_docs.content(module) == EXPECTED


def test_the_section_goes_between_the_markers(module: Path) -> None:
    readme = module / "README.md"
    readme.write_text(f"# m\n\nText.\n\n{module_docs.BEGIN}\nold\n{module_docs.END}\n\nMore.\n")
    assert module_docs.render(readme) == (
        f"# m\n\nText.\n\n{module_docs.BEGIN}\n{EXPECTED}\n{module_docs.END}\n\nMore.\n"
    )


def test_a_readme_without_markers_is_an_error(module: Path) -> None:
    (module / "README.md").write_text("# m\n")
    with pytest.raises(SystemExit, match="BEGIN_TF_DOCS"):
        module_docs.render(module / "README.md")


def test_pipes_are_escaped_outside_code_only() -> None:
    assert module_docs.table_cell("a | b `c | d` e") == "a \\| b `c | d` e"


class TestLiterals:
    def test_values(self) -> None:
        assert hcl.value('{ a = 1, "b" : [true, null], c = "x\\"y" }') == {
            "a": 1,
            "b": [True, None],
            "c": 'x"y',
        }

    def test_tfvars_with_comments_and_nesting(self) -> None:
        text = '# c\nkey = "v" # FORK\n# off = 1\nobj = {\n  n = 2.5 // c\n  m = { x = [\n    1,\n  ] }\n}\n'
        assert hcl.tfvars(text) == {"key": "v", "obj": {"n": 2.5, "m": {"x": [1]}}}

    @pytest.mark.parametrize("text", ["var.x", '"${var.x}"', "[1, 2", "{ a = 1 b = 2 }"])
    def test_anything_else_is_an_error(self, text: str) -> None:
        with pytest.raises(ValueError, match=r"not a literal|template|expected"):
            hcl.value(text)
