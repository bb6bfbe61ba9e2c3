"""Database plumbing that knows no feature: the engine and its transactions (``engine``), what
the drivers' errors mean (``errors``), column types (``types``), every table (``tables``),
SQL spelt per dialect (``dialects``), SQLite's inline connection (``inline``) and the hot
reads on the driver (``direct``)."""
