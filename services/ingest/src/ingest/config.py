"""Runtime configuration, read once from the environment and validated."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    """What the function needs to know about its environment."""

    model_config = ConfigDict(frozen=True)

    events_table: str = Field(min_length=3, max_length=255, pattern=r"^[A-Za-z0-9_.-]+$")
    sources: str | None = Field(
        default=None, description="The sources document as JSON, or ssm:NAME to read it from SSM."
    )
    retention_days: int = Field(
        default=30, ge=0, le=36500, description="Days until an event expires; 0 keeps it forever."
    )
    metrics_namespace: str = "Ingest"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls.model_validate(
            {
                "events_table": env.get("EVENTS_TABLE", ""),
                "sources": env.get("SOURCES") or None,
                "retention_days": int(env.get("RETENTION_DAYS", "30")),
                "metrics_namespace": env.get("POWERTOOLS_METRICS_NAMESPACE", "Ingest"),
            }
        )
