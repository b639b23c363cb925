"""The local runtime behind ``make run`` (never deployed): gateway, broker, relay, dev IdP, DynamoDB Local."""
