"""The tools around the ingest service: the ``ingest`` CLI, the local API Gateway and DynamoDB
emulator, the cost model and the OpenAPI generator. They build on the runtime package ``ingest``;
the runtime never imports them, and none of this ships in the Lambda artifact."""
