"""Numbers owned by accounts: list, get, purchase (and, later, routing and release)."""
