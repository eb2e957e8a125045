"""Stand-ins shared by the tests of scripts/ci."""

from __future__ import annotations

import json
from pathlib import Path

FAKE_TERRAFORM = r'''#!{python}
"""Stand-in for the terraform binary: records its calls, behaves as FAKE_TF_* says."""
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_TF_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps({{"cwd": os.getcwd(), "args": args,
                          "data_dir": os.environ.get("TF_DATA_DIR")}}) + "\n")
command = args[0] if args else ""
if command == "plan":
    code = int(os.environ.get("FAKE_TF_PLAN_EXIT", "2"))
    if code in (0, 2):
        out = next(a.split("=", 1)[1] for a in args if a.startswith("-out="))
        with open(out, "wb") as handle:
            handle.write(b"binary plan " + str(code).encode())
        print("Terraform will perform the following actions:")
    else:
        print("Error: Invalid provider configuration", file=sys.stderr)
    sys.exit(code)
if command == "show":
    print(os.environ.get("FAKE_TF_SHOW", "Plan: 1 to add, 0 to change, 0 to destroy."))
    sys.exit(0)
if command == "output":
    print(os.environ.get("FAKE_TF_OUTPUT", "https://abc.execute-api.eu-west-1.amazonaws.com"), end="")
    sys.exit(0)
if command == "providers":
    os.makedirs(args[-1], exist_ok=True)
sys.exit(int(os.environ.get("FAKE_TF_EXIT_" + command.upper(), "0")))
'''


class FakeTerraform:
    def __init__(self, path: Path, log: Path) -> None:
        self.path = path
        self.log = log

    def calls(self) -> list[dict[str, object]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def commands(self) -> list[list[str]]:
        return [[str(a) for a in call["args"]] for call in self.calls()]  # type: ignore[attr-defined]
