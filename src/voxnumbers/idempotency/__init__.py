"""Safe retries: responses to POST and DELETE stored under the caller's Idempotency-Key."""
