"""The baseline: the minimal handler the project started from (json.loads, uuid4, put_item, 200)."""

from __future__ import annotations

import json
import os
import time
import uuid
from decimal import Decimal
from typing import Any

import boto3  # noqa: TID251 - the baseline is the bare boto3 handler, by definition

_table = boto3.resource("dynamodb").Table(os.environ["EVENTS_TABLE"])


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = json.loads(event["body"], parse_float=Decimal)  # boto3 refuses floats
    item = {"event_id": str(uuid.uuid4()), "received_at": int(time.time() * 1000), **body}
    _table.put_item(Item=item)
    return {"statusCode": 200, "body": json.dumps({"event_id": item["event_id"]})}
