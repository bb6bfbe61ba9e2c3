"""Accounts, their API keys, and authentication of requests."""
