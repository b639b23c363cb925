"""The shared kernel every PIC function stands on: one of each (settings, errors, auth, policy,
storage, outbox, idempotency, logging)."""
