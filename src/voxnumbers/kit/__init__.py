"""Plumbing that knows no feature: database, ids, money, time, E.164, API keys."""
