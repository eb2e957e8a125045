"""Domain logic: validating /events requests, enriching events and storing each exactly once,
and verifying webhook deliveries. Nothing here speaks HTTP; storage goes through the adapters."""
