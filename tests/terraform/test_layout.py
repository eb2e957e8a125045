"""Static checks of modules/ and environments/ (fast; Terraform itself runs in make test-terraform)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
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
    for path in tf_files(ROOT / "modules") + tf_files(ROOT / "environments"):
        text = path.read_text()
        for source in re.findall(r'source\s*=\s*"([^"]+)"', text):
            assert source == "hashicorp/aws" or source.startswith("../../modules/"), (
                f"{path}: {source}"
            )
        for kind in re.findall(r'^(?:resource|data) "([a-z0-9_]+)"', text, re.MULTILINE):
            assert kind.startswith("aws_"), f"{path}: {kind} is not from hashicorp/aws"


def test_lock_files_cover_ci_and_workstations() -> None:
    locks = [d / ".terraform.lock.hcl" for d in MODULES + ENVIRONMENTS]
    contents = {lock.read_text() for lock in locks}
    assert len(contents) == 1, "every lock file pins the same provider build"
    text = contents.pop()
    assert text.count('provider "registry.terraform.io/') == 1
    assert 'provider "registry.terraform.io/hashicorp/aws"' in text
    assert 'version     = "5.100.0"' in text
    assert LINUX_AMD64_H1 in text  # GitHub-hosted runners are linux_amd64
    assert len(re.findall(r'"zh:[0-9a-f]{64}"', text)) >= 14  # every platform's release zip


def test_dev_and_prod_differ_only_by_values() -> None:
    dev, prod = ROOT / "environments" / "dev", ROOT / "environments" / "prod"
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", ".terraform.lock.hcl"):
        assert (dev / name).read_text() == (prod / name).read_text(), name


def test_prod_is_stricter_than_dev() -> None:
    dev = tfvars(ROOT / "environments" / "dev" / "terraform.tfvars")
    prod = tfvars(ROOT / "environments" / "prod" / "terraform.tfvars")
    assert dev["environment"] == "dev"
    assert prod["environment"] == "prod"
    assert prod["deletion_protection"] == "true"
    assert dev["deletion_protection"] == "false"
    assert int(prod["retention_days"]) > int(dev["retention_days"])
    assert int(prod["log_retention_days"]) > int(dev["log_retention_days"])
    for threshold in (
        "lambda_errors_threshold",
        "api_5xx_rate_threshold",
        "api_latency_p99_threshold_ms",
    ):
        assert float(prod[threshold]) < float(dev[threshold]), threshold


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
    function = (ROOT / "modules" / "ingest-function" / "main.tf").read_text()
    package = (ROOT / "scripts" / "package.py").read_text()
    assert 'runtime                        = "python3.11"' in function
    assert 'architectures                  = ["arm64"]' in function
    assert 'PLATFORM = "aarch64-manylinux2014"' in package
    assert 'PYTHON_VERSION = "3.11"' in package


def pins(path: Path) -> dict[str, str]:
    return dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==([^ \\]+)", path.read_text(), re.MULTILINE))


def test_lambda_lock_agrees_with_dev_lock() -> None:
    lam = pins(ROOT / "requirements" / "lambda.lock")
    dev = pins(ROOT / "requirements" / "dev.lock")
    assert {"aws-lambda-powertools", "pydantic", "boto3", "aws-xray-sdk"} <= lam.keys()
    assert {name: dev.get(name) for name in lam} == lam
    assert "make lock-lambda" in (ROOT / "requirements" / "lambda.lock").read_text()


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
    """The environments derive the boundary, apply role and role path the bootstrap creates."""
    oidc = (ROOT / "modules" / "github-oidc" / "main.tf").read_text()
    assert '"${p}-github-apply"' in oidc
    assert 'policy/${p}-boundary"' in oidc
    assert '"/${p}/"' in oidc
    for env in ("dev", "prod"):
        text = (ROOT / "environments" / env / "main.tf").read_text()
        assert 'role/${local.prefix}-github-apply"' in text
        assert 'policy/${local.prefix}-boundary"' in text
        assert re.search(r'role_path\s+= "/\$\{local\.prefix\}/"', text)
        assert re.search(r"key_administrator_arns\s+= .*local\.apply_role_arn", text)


def test_the_http_api_declares_its_routes_and_no_default_route() -> None:
    text = (ROOT / "modules" / "http-api" / "main.tf").read_text()
    block = re.search(r"^  routes = \{\n(.*?)^  \}", text, re.MULTILINE | re.DOTALL)
    assert block is not None
    keys = set(re.findall(r'=\s*"([^"]+)"', block.group(1)))
    assert keys == {"ANY /events", "ANY /webhooks/{source}", "ANY /health"}
    assert 'route_key = "$default"' not in text
