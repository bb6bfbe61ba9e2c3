"""HTTP plumbing shared by every feature: error envelope, request ids, auth, JSON."""
