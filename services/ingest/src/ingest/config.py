"""Runtime configuration, read once from the environment and validated."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from ingest.limits import DEFAULT_LISTING_SHARDS, MAX_LISTING_SHARDS


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
    listing_shards: int = Field(
        default=DEFAULT_LISTING_SHARDS,
        ge=1,
        le=MAX_LISTING_SHARDS,
        description="Listing index partitions one source's events spread over (LISTING_SHARDS).",
    )
    metrics_namespace: str = "Ingest"
    payload_bucket: str | None = Field(
        default=None,
        min_length=3,
        max_length=63,
        pattern=r"^[a-z0-9][a-z0-9.-]+[a-z0-9]$",
        description="The S3 bucket for payloads held by reference (PAYLOAD_BUCKET); none: inline.",
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls.model_validate(
            {
                "events_table": env.get("EVENTS_TABLE", ""),
                "sources": env.get("SOURCES") or None,
                "retention_days": int(env.get("RETENTION_DAYS", "30")),
                "listing_shards": int(env.get("LISTING_SHARDS", DEFAULT_LISTING_SHARDS)),
                "metrics_namespace": env.get("POWERTOOLS_METRICS_NAMESPACE", "Ingest"),
                "payload_bucket": env.get("PAYLOAD_BUCKET") or None,
            }
        )
