"""Prometheus metrics of one server process: requests by route and status, and latency.

Each application has its own registry (no globals), served at ``GET /metrics``. Routes are
labelled by their template (``/v1/account/{account_id}/numbers``), never by the raw path, so
the number of series stays bounded and no account id or number reaches the metrics.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

UNMATCHED = "unmatched"


class Metrics:
    """The counters and histograms a process exposes."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "voxnumbers_requests",
            "HTTP requests answered.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "voxnumbers_request_duration_seconds",
            "Time to answer an HTTP request.",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )

    def observe(self, method: str, route: str | None, status: int, seconds: float) -> None:
        label = route or UNMATCHED
        self.requests.labels(method, label, str(status)).inc()
        self.latency.labels(method, label).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
