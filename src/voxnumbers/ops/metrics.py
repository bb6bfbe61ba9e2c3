"""Prometheus metrics of the server: requests, latency, rate-limit rejections, the database
pool, the webhook backlog, and the process and Python runtime.

Each application has its own registry (no globals), served at ``GET /metrics``. Routes are
labelled by their template (``/v1/account/{account_id}/numbers``), never by the raw path, so
the number of series stays bounded and no account id or number reaches the metrics.

With several worker processes (``VOX_WORKERS``), a scrape reaches one of them: ``vox serve``
then gives the workers a shared directory (``PROMETHEUS_MULTIPROC_DIR``, prometheus-client's
multiprocess mode), where each process writes its counters, so any worker answers with the
sum over all of them. The pool gauges are summed over the live workers too; the per-worker
memory and CPU time carry a ``pid`` label. The webhook backlog is read from the database at
scrape time, so it is the same whichever process answers. The ``process_*`` and
``python_*`` series of the standard collectors describe the process that answered.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Literal

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from voxnumbers.events import service as events

if TYPE_CHECKING:
    from voxnumbers.db.engine import Database

UNMATCHED = "unmatched"
MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
# One charset: Litestar adds "; charset=utf-8" to text media types itself.
CONTENT_TYPE = "text/plain; version=0.0.4"
# How often a worker refreshes its own memory and CPU figures (at most, on requests).
_WORKER_REFRESH_SECONDS = 1.0


class Metrics:
    """The series a process exposes, and how a scrape collects them."""

    content_type = CONTENT_TYPE

    def __init__(self, database: Database | None = None) -> None:
        """With ``PROMETHEUS_MULTIPROC_DIR`` set, the series are shared through that
        directory with the other processes that have it."""
        # Counters and histograms would each add a `_created` series, doubling the output.
        disable_created_metrics()
        self.database = database
        self.directory = os.environ.get(MULTIPROCESS_DIRECTORY) or None
        if self.directory is not None and not _writes_to_files():
            # prometheus-client picks its value class at import; a process that imported it
            # before the directory was set must still write where the other workers read.
            values.ValueClass = values.MultiProcessValue()
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
        self.rate_limited = Counter(
            "voxnumbers_rate_limited_requests",
            "Requests refused with 429 RATE_LIMITED.",
            ["route"],
            registry=self.registry,
        )
        self.pool_in_use = self._gauge(
            "voxnumbers_db_pool_connections_in_use",
            "Database connections checked out of the pool.",
            "livesum",
        )
        self.pool_waiting = self._gauge(
            "voxnumbers_db_pool_waiting",
            "Requests waiting for a database connection from the pool.",
            "livesum",
        )
        self.worker_memory = self._gauge(
            "voxnumbers_worker_resident_memory_max_bytes",
            "Largest resident memory of each worker process so far.",
            "all",
        )
        self.worker_cpu = self._gauge(
            "voxnumbers_worker_cpu_seconds", "CPU time used by each worker process.", "all"
        )
        self._webhooks = _WebhookBacklog()
        self._worker_refreshed = 0.0
        self._scrape_registry = self._registry_for_scrapes()

    def _gauge(
        self, name: str, documentation: str, multiprocess_mode: Literal["livesum", "all"]
    ) -> Gauge:
        """A gauge of this registry; ``multiprocess_mode`` says how the processes' values
        combine (``livesum``: the live ones added, ``all``: one series each)."""
        return Gauge(
            name, documentation, registry=self.registry, multiprocess_mode=multiprocess_mode
        )

    def _registry_for_scrapes(self) -> CollectorRegistry:
        if self.directory is None:
            registry = self.registry
        else:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=self.directory)
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        registry.register(self._webhooks)
        return registry

    def observe(self, method: str, route: str | None, status: int, seconds: float) -> None:
        """Count an answered request (called by the request-id middleware)."""
        label = route or UNMATCHED
        self.requests.labels(method, label, str(status)).inc()
        self.latency.labels(method, label).observe(seconds)
        if status == 429:
            self.rate_limited.labels(label).inc()
        self._refresh_process()

    def _refresh_process(self, *, now: float | None = None) -> None:
        """This process's pool and worker figures (each process writes its own)."""
        if self.database is not None:
            self.pool_in_use.set(self.database.connections_in_use)
            self.pool_waiting.set(self.database.connections_waiting)
        now = time.monotonic() if now is None else now
        if now - self._worker_refreshed >= _WORKER_REFRESH_SECONDS:
            self._worker_refreshed = now
            usage = resource.getrusage(resource.RUSAGE_SELF)
            self.worker_memory.set(usage.ru_maxrss * 1024)  # kilobytes on Linux
            self.worker_cpu.set(usage.ru_utime + usage.ru_stime)

    async def render(self) -> bytes:
        """The exposition of a scrape: every process's series, and the webhook backlog."""
        self._refresh_process(now=time.monotonic() + _WORKER_REFRESH_SECONDS)
        if self.database is not None:
            async with self.database.transaction(write=False) as conn:
                self._webhooks.counts = await events.delivery_backlog(conn)
        return generate_latest(self._scrape_registry)

    def close(self) -> None:
        """This process is stopping: its pool gauges no longer count in the sums."""
        if self.directory is not None:
            mark_process_dead(os.getpid(), self.directory)


class _WebhookBacklog(Collector):
    """Webhook deliveries by state, as the database counted them for this scrape."""

    def __init__(self) -> None:
        self.counts: Mapping[str, int] = {}

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "voxnumbers_webhook_deliveries",
            "Webhook deliveries by state: pending (the backlog, retries included) and failed "
            "(given up after every retry).",
            labels=["state"],
        )
        for state in ("pending", "failed"):
            family.add_metric([state], self.counts.get(state, 0))
        yield family


def _writes_to_files() -> bool:
    return "MultiProcessValue" in getattr(values.ValueClass, "__qualname__", "")
