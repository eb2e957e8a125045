"""Who makes each AWS call of the rehearsal in the real flow, and the access key id that says so.

The rehearsal (scripts/tf/rehearse.py) signs each step's requests with the access key id of the
identity that makes them on AWS; moto accepts any key, and the recording it keeps carries each
request's Authorization header, so scripts/tf/iam_coverage.py can tell who called what.
"""

from __future__ import annotations

import re

# Evaluated: the plan role (plans, drift checks), an environment's apply role (apply, destroy, the
# outputs an apply job reads) and an environment's function role (the service).
PLAN = "plan"
APPLY_PREFIX = "apply:"
FUNCTION_PREFIX = "function:"
# Not evaluated: the bootstrap and the first deployments before the deploy roles' scope (an
# administrator), a person reading events with their own credentials, and the rehearsal's own
# inspection of the emulator.
ADMIN = "admin"
PERSON = "person"
REHEARSAL = "rehearsal"

_KEY_PREFIX = "AKIAREHEARSE"


def apply_role(environment: str) -> str:
    return f"{APPLY_PREFIX}{environment}"


def function_role(environment: str) -> str:
    return f"{FUNCTION_PREFIX}{environment}"


def access_key(identity: str) -> str:
    """The access key id the rehearsal signs ``identity``'s requests with (letters and digits)."""
    if not re.fullmatch(r"[a-z]+(:[a-z0-9]+)?", identity):
        raise ValueError(f"not an identity: {identity!r}")
    return _KEY_PREFIX + identity.replace(":", "0").upper()


def identity_of(key: str) -> str | None:
    """The identity behind an access key id from :func:`access_key`; None for any other key."""
    if not key.startswith(_KEY_PREFIX):
        return None
    kind, _, environment = key.removeprefix(_KEY_PREFIX).lower().partition("0")
    return f"{kind}:{environment}" if environment else kind


def evaluated(identity: str) -> bool:
    """Whether the identity's calls are checked against policies the modules render."""
    return identity == PLAN or identity.startswith((APPLY_PREFIX, FUNCTION_PREFIX))
