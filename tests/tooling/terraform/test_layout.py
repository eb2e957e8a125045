"""Static checks of modules/ and environments/ (fast; Terraform itself runs in make test-terraform)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.tf import hcl

ROOT = Path(__file__).resolve().parents[3]
MODULES = sorted(p for p in (ROOT / "modules").iterdir() if (p / "versions.tf").exists())
ENVIRONMENTS = [ROOT / "environments" / name for name in ("bootstrap", "dev", "prod")]
LINUX_AMD64_H1 = "h1:edXOJWE4ORX8Fm+dpVpICzMZJat4AX0VRCAy/xkcOc0="
BLOCK = re.compile(r'^(variable|output) "([^"]+)" \{\n(.*?)^\}', re.MULTILINE | re.DOTALL)


def tf_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*.tf") if ".terraform" not in p.parts)


def tfvars(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([a-z_0-9]+)\s*=\s*([^#]+?)\s*(#.*)?$", line)
        if match:
            values[match.group(1)] = match.group(2).strip('"')
    return values


def test_modules_exist() -> None:
    names = {m.name for m in MODULES}
    assert names == {
        "event-store",
        "ingest-function",
        "http-api",
        "alarms",
        "state-backend",
        "github-oidc",
        "ingest-stack",
        "event-bus-pipe",
    }


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.name)
def test_module_layout(module: Path) -> None:
    for name in (
        "main.tf",
        "variables.tf",
        "outputs.tf",
        "versions.tf",
        "README.md",
        ".terraform.lock.hcl",
    ):
        assert (module / name).is_file(), f"{module.name}/{name} is missing"
    assert list((module / "tests").glob("*.tftest.hcl")), f"{module.name} has no terraform test"
    assert 'variable "tags"' in (module / "variables.tf").read_text()


@pytest.mark.parametrize("directory", MODULES + ENVIRONMENTS, ids=lambda d: d.name)
def test_variables_and_outputs_are_typed_and_described(directory: Path) -> None:
    for _kind, name, body in BLOCK.findall((directory / "variables.tf").read_text()):
        assert re.search(r"^  description\s*=", body, re.MULTILINE), (
            f"variable {name}: no description"
        )
        assert re.search(r"^  type\s*=", body, re.MULTILINE), f"variable {name}: no type"
    for kind, name, body in BLOCK.findall((directory / "outputs.tf").read_text()):
        assert re.search(r"^  description\s*=", body, re.MULTILINE), (
            f"{kind} {name}: no description"
        )


def test_only_the_aws_provider() -> None:
    modules = {m.name for m in MODULES}
    for path in tf_files(ROOT / "modules") + tf_files(ROOT / "environments"):
        text = path.read_text()
        for source in re.findall(r'source\s*=\s*"([^"]+)"', text):
            # A module's own nested module (modules/NAME/modules/PART) is called from the module
            # (./modules/PART) or from a sibling (../NAME/modules/PART).
            local = re.fullmatch(
                r"(?:\.\./\.\./modules|\.\.)/([a-z-]+)(?:/modules/[a-z-]+)?", source
            )
            nested = re.fullmatch(r"\./modules/[a-z-]+", source)
            assert source == "hashicorp/aws" or nested or (local and local.group(1) in modules), (
                f"{path}: {source}"
            )
        for kind in re.findall(r'^(?:resource|data) "([a-z0-9_]+)"', text, re.MULTILINE):
            assert kind.startswith("aws_"), f"{path}: {kind} is not from hashicorp/aws"


def provider_constraint(directory: Path) -> str:
    text = (directory / "versions.tf").read_text()
    match = re.search(
        r'source\s*=\s*"hashicorp/aws",?\s*(?:#.*\n\s*)*version\s*=\s*"([^"]+)"', text
    )
    assert match, f"{directory}: no hashicorp/aws version constraint"
    return match.group(1)


def test_one_lock_file_covers_ci_and_workstations() -> None:
    """One provider build, recorded once: every module and environment links to the root lock."""
    lock = ROOT / ".terraform.lock.hcl"
    for directory in MODULES + ENVIRONMENTS:
        link = directory / ".terraform.lock.hcl"
        assert link.is_symlink(), f"{link.relative_to(ROOT)} is not a link to the root lock file"
        assert link.resolve() == lock, link
    text = lock.read_text()
    assert text.count('provider "registry.terraform.io/') == 1
    assert 'provider "registry.terraform.io/hashicorp/aws"' in text
    version = re.search(r'^  version     = "([^"]+)"$', text, re.MULTILINE)
    assert version
    assert version.group(1) == "5.100.0"
    assert LINUX_AMD64_H1 in text  # GitHub-hosted runners are linux_amd64
    assert len(re.findall(r'"zh:[0-9a-f]{64}"', text)) >= 14  # every platform's release zip
    recorded = re.search(r'^  constraints = "([^"]+)"$', text, re.MULTILINE)
    assert recorded
    for directory in MODULES + ENVIRONMENTS:
        assert provider_constraint(directory) in recorded.group(1).split(", "), directory
    for env in ENVIRONMENTS:
        assert provider_constraint(env) == version.group(1), env.name


def test_modules_set_a_floor_and_environments_pin() -> None:
    """A reusable module takes any provider from its floor on; a deployment pins one, exactly."""
    for module in MODULES:
        assert re.fullmatch(r">= \d+\.\d+(\.\d+)?", provider_constraint(module)), module.name
    for env in ENVIRONMENTS:
        assert re.fullmatch(r"\d+\.\d+\.\d+", provider_constraint(env)), env.name
        assert 'backend "s3" {}' in (env / "versions.tf").read_text() or env.name == "bootstrap"


def test_dev_and_prod_differ_only_by_values() -> None:
    """The root configuration is environments/shared's (links); each environment holds only its
    values, backend file and provider pin."""
    shared = ROOT / "environments" / "shared"
    linked = ("main.tf", "variables.tf", "outputs.tf", "moved.tf.json")
    # versions.tf is shared's own (a floor for the tools that read it alone); each environment pins.
    assert {p.name for p in shared.iterdir() if not p.is_symlink()} == {*linked, "versions.tf"}
    for env in (ROOT / "environments" / name for name in ("dev", "prod")):
        for name in linked:
            assert (env / name).is_symlink(), f"environments/{env.name}/{name} is not a link"
            assert (env / name).readlink() == Path("../shared") / name
        own = [
            p for p in env.iterdir() if p.name not in (".terraform", "tests") and not p.is_symlink()
        ]
        assert {p.name for p in own} == {
            "versions.tf",
            "terraform.tfvars",
            f"{env.name}.s3.tfbackend",
        }
        lines = sum(len(p.read_text().splitlines()) for p in own)
        assert lines < 60, f"environments/{env.name} is {lines} lines: it holds values only"
        assert provider_constraint(env) == provider_constraint(ROOT / "environments" / "dev")
    assert 'source = "../../modules/ingest-stack"' in (shared / "main.tf").read_text()


def test_every_module_the_environments_called_has_moved() -> None:
    """Deployments made before modules/ingest-stack keep every address (scripts/tf/rehearse.py
    plans the upgrade from that layout against moto and fails on anything but a move)."""
    stack = (ROOT / "modules" / "ingest-stack" / "main.tf").read_text()
    moved = json.loads((ROOT / "environments" / "shared" / "moved.tf.json").read_text())["moved"]
    called = re.findall(r'^module "([a-z_]+)"', stack, re.MULTILINE)
    # Modules added to the stack after the move have no address to carry (modules/event-bus-pipe).
    called = [m for m in called if m != "consumers"]
    assert called == ["event_store", "ingest_function", "http_api", "alarms"]
    moves = [(m["from"], m["to"]) for m in moved]
    assert moves == [(f"module.{m}", f"module.stack.module.{m}") for m in called]


def test_prod_is_stricter_than_dev() -> None:
    dev = hcl.tfvars((ROOT / "environments" / "dev" / "terraform.tfvars").read_text())["stack"]
    prod = hcl.tfvars((ROOT / "environments" / "prod" / "terraform.tfvars").read_text())["stack"]
    assert dev["environment"] == "dev"
    assert prod["environment"] == "prod"
    assert prod["events"]["deletion_protection"] is True
    assert dev["events"]["deletion_protection"] is False
    assert prod["events"]["retention_days"] > dev["events"]["retention_days"]
    assert prod["logs"]["retention_days"] > dev["logs"]["retention_days"]
    for alarm in ("lambda_errors", "api_5xx_rate", "api_latency_p99"):
        assert prod["alarms"]["thresholds"][alarm] < dev["alarms"]["thresholds"][alarm], alarm
    assert prod["api"]["throttling_rate_limit"] > dev["api"]["throttling_rate_limit"]


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_backend_files_lock_with_table_and_lockfile(env: str) -> None:
    values = tfvars(ROOT / "environments" / env / f"{env}.s3.tfbackend")
    assert values["key"] == f"{env}/terraform.tfstate"
    assert values["use_lockfile"] == "true"
    assert values["dynamodb_table"]
    assert values["encrypt"] == "true"


def test_no_override_or_state_files_committed() -> None:
    for top in ("modules", "environments"):
        for path in (ROOT / top).rglob("*"):
            if ".terraform" in path.parts:
                continue
            assert not path.name.endswith(("_override.tf", "override.tf")), path
            assert not path.name.endswith((".tfstate", ".tfstate.backup")), path


def test_runtime_matches_the_package() -> None:
    # One place for the Lambda runtime, read by Terraform and by the package builder alike
    # (docs/decisions/0029-lambda-runtime-in-one-place.md).
    runtime = (ROOT / "modules" / "ingest-function" / "lambda-runtime.txt").read_text()
    assert re.fullmatch(r"python3\.\d+\n", runtime), runtime
    runtime = runtime.strip()
    function = (ROOT / "modules" / "ingest-function" / "main.tf").read_text()
    package = (ROOT / "scripts" / "package.py").read_text()
    assert re.search(
        r'^\s*runtime\s+= trimspace\(file\("\$\{path\.module\}/lambda-runtime\.txt"\)\)',
        function,
        re.MULTILINE,
    )
    assert not re.search(r'"python3\.\d+"', function)
    assert 'architectures                  = ["arm64"]' in function
    assert 'PLATFORM = "aarch64-manylinux2014"' in package
    assert '"lambda-runtime.txt"' in package
    assert not re.search(r'"3\.\d+"', package)
    # CI builds the bytecode with the runtime's minor version (.python-version pins its patch).
    python = (ROOT / ".python-version").read_text().strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+", python), python
    assert f"python{python.rsplit('.', 1)[0]}" == runtime


def pins(path: Path) -> dict[str, str]:
    return dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==([^ \\]+)", path.read_text(), re.MULTILINE))


def test_lambda_lock_agrees_with_dev_lock() -> None:
    lam = pins(ROOT / "requirements" / "lambda.lock")
    dev = pins(ROOT / "requirements" / "dev.lock")
    assert {"aws-lambda-powertools", "pydantic", "boto3", "aws-xray-sdk"} <= lam.keys()
    assert {name: dev.get(name) for name in lam} == lam
    assert "make lock-lambda" in (ROOT / "requirements" / "lambda.lock").read_text()


def test_module_readmes_use_terraform_docs_markers_and_settings() -> None:
    """scripts/tf/module_docs.py writes what terraform-docs writes with .terraform-docs.yml."""
    config = (ROOT / ".terraform-docs.yml").read_text()
    for setting in (
        'formatter: "markdown table"',
        "enabled: false",
        "anchor: false",
        "escape: false",
        "html: false",
        "read-comments: false",
        "required: true",
        "indent: 2",
        "<!-- BEGIN_TF_DOCS -->",
        "<!-- END_TF_DOCS -->",
    ):
        assert setting in config, setting
    shown = re.search(r"show:\n((?:\s+- \S+\n)+)", config)
    assert shown
    assert shown.group(1).split() == ["-", "requirements", "-", "inputs", "-", "outputs"]
    for module in MODULES:
        text = (module / "README.md").read_text()
        assert text.count("<!-- BEGIN_TF_DOCS -->") == 1, module.name
        assert text.count("<!-- END_TF_DOCS -->") == 1, module.name
        assert "MODULE_DOCS" not in text, module.name


def test_module_readmes_are_current() -> None:
    script = ROOT / "scripts" / "tf" / "module_docs.py"
    result = subprocess.run(
        [sys.executable, str(script), "--check"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout


def test_checkov_skips_are_inline_with_a_reason() -> None:
    config = (ROOT / ".checkov.yaml").read_text()
    assert "skip-check" not in config
    for path in tf_files(ROOT / "modules") + tf_files(ROOT / "environments"):
        for line in path.read_text().splitlines():
            if "checkov:skip=" in line:
                assert re.search(r"#checkov:skip=CKV2?_AWS_\d+:\S.{10,}", line), f"{path}: {line}"


def test_environments_name_the_bootstrap_roles_and_paths() -> None:
    """The stack derives the boundary, apply role and role path the bootstrap creates."""
    oidc = (ROOT / "modules" / "github-oidc" / "main.tf").read_text()
    assert '"${p}-github-apply"' in oidc
    assert 'policy/${p}-boundary"' in oidc
    assert '"/${p}/"' in oidc
    text = (ROOT / "modules" / "ingest-stack" / "main.tf").read_text()
    assert 'role/${local.prefix}-github-apply"' in text
    assert 'policy/${local.prefix}-boundary"' in text
    assert re.search(r'path\s+= "/\$\{local\.prefix\}/"', text)
    assert re.search(r"key_administrator_arns\s+= .*local\.apply_role_arn", text)


def test_the_http_api_declares_its_routes_and_no_default_route() -> None:
    text = (ROOT / "modules" / "http-api" / "main.tf").read_text()
    block = re.search(r"^  routes = \{\n(.*?)^  \}", text, re.MULTILINE | re.DOTALL)
    assert block is not None
    keys = set(re.findall(r'=\s*"([^"]+)"', block.group(1)))
    assert keys == {"ANY /events", "ANY /webhooks/{source}", "ANY /health"}
    assert 'route_key = "$default"' not in text
