"""Local stand-ins for API Gateway and DynamoDB, so the real handler runs without AWS."""
