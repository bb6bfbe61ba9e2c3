"""Plumbing that knows no feature: ids, money, time, E.164, API keys, rate limits."""
