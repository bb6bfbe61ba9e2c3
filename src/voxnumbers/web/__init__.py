"""HTTP plumbing shared by every feature: error envelope, request ids, the request's
transaction, the shape check, rate limits, JSON. It knows no feature (an import-linter
contract): what it needs of one, ``app.py`` passes in."""
