"""The environment Terraform runs in for the scripts: offline, from the provider mirror.

``make`` writes build/terraformrc (tf-rc) and exports TF_CLI_CONFIG_FILE; run outside ``make``,
the same file is written here. No checkpoint calls, no prompts. Credentials are the caller's
business: each script sets the fake ones it needs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def terraform_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: ``os.environ``) with the offline CLI configuration."""
    env = dict(os.environ if base is None else base)
    rc = Path(env.get("TF_CLI_CONFIG_FILE", ""))
    if not rc.is_file():
        mirror = env.get("TF_PROVIDER_MIRROR", "/opt/tf-plugins")
        cache = ROOT / "build" / "terraform-plugin-cache"
        cache.mkdir(parents=True, exist_ok=True)
        rc = ROOT / "build" / "terraformrc"
        rc.write_text(
            "provider_installation {\n  filesystem_mirror {\n"
            f'    path    = "{mirror}"\n'
            '    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n'
            f'plugin_cache_dir = "{cache}"\n'
        )
        env["TF_PLUGIN_CACHE_DIR"] = str(cache)
    env["TF_CLI_CONFIG_FILE"] = str(rc)
    env["CHECKPOINT_DISABLE"] = "1"
    env["TF_IN_AUTOMATION"] = "1"
    env["TF_INPUT"] = "0"
    return env
