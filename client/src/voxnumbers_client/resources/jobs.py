"""``client.jobs``: bulk jobs (API.md §9); ``BulkJob`` follows one until it ends."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Unpack

from voxnumbers_client._errors import RateLimitedError
from voxnumbers_client._models import BulkPlan, Job, JobResult
from voxnumbers_client._pagination import AsyncPaginator, Page, PageRequest, page_parser
from voxnumbers_client._params import JobListParams, JobResultParams, NumberFilters
from voxnumbers_client._request import APIRequest, check_keywords, encode_query
from voxnumbers_client.resources._base import AsyncResource, Resource, SyncResource

if TYPE_CHECKING:
    from voxnumbers_client._client import AsyncClient, Client

#: The bulk actions (``numbers.bulk``'s ``action``).
BULK_ACTIONS = ("assign_trunk", "assign_application", "unassign", "release", "cancel_release")
#: How often ``wait`` reads the job by default, in seconds.
DEFAULT_POLL_INTERVAL = 1.0


def bulk_request(
    path: str,
    action: str,
    *,
    numbers: Sequence[str] | None,
    filter: Mapping[str, Any] | None,
    trunk_id: str | None,
    application_id: str | None,
    dry_run: bool,
    idempotency_key: str | None,
) -> APIRequest[Any]:
    """``POST …/numbers/bulk``: the answer is a :class:`BulkPlan` (dry run) or a
    :class:`Job`."""
    body: dict[str, Any] = {"action": action}
    if trunk_id is not None:
        body["trunk_id"] = trunk_id
    if application_id is not None:
        body["application_id"] = application_id
    if numbers is not None:
        body["numbers"] = list(numbers)
    if filter is not None:
        check_keywords(NumberFilters, filter)
        body["filter"] = _filter_body(filter)
    if dry_run:
        body["dry_run"] = True
    parse = BulkPlan.from_json if dry_run else Job.from_json
    return APIRequest("POST", path, parse, body=body, idempotency_key=idempotency_key)


def _filter_body(filter: Mapping[str, Any]) -> dict[str, Any]:
    """The list filters as the bulk body spells them (``capability`` a list, times ISO)."""
    pairs = encode_query(NumberFilters, {k: v for k, v in filter.items() if k != "routed"})
    body: dict[str, Any] = {}
    for key, value in pairs:
        if key == "capability":
            body.setdefault("capability", []).append(value)
        else:
            body[key] = value
    if filter.get("routed") is not None:
        body["routed"] = bool(filter["routed"])
    return body


class _JobRequests(Resource):
    def _list(self, params: JobListParams) -> PageRequest[Job]:
        query = encode_query(JobListParams, params)
        return APIRequest("GET", self._path("jobs"), page_parser(Job.from_json), query)

    def _get(self, job_id: str) -> APIRequest[Job]:
        return APIRequest("GET", self._path("jobs", job_id), Job.from_json)

    def _results(self, job_id: str, params: JobResultParams) -> PageRequest[JobResult]:
        query = encode_query(JobResultParams, params)
        path = self._path("jobs", job_id, "results")
        return APIRequest("GET", path, page_parser(JobResult.from_json), query)

    def _cancel(self, job_id: str) -> APIRequest[Job]:
        return APIRequest("POST", self._path("jobs", job_id, "cancel"), Job.from_json)


class Jobs(_JobRequests, SyncResource):
    """The account's bulk jobs (start one with ``client.numbers.bulk``)."""

    def list(self, **params: Unpack[JobListParams]) -> Page[Job]:
        """List jobs, newest first; filter by ``status``."""
        return self._client._page(self._list(params))

    def get(self, job_id: str) -> Job:
        """One job and its progress."""
        return self._client._request(self._get(job_id))

    def results(self, job_id: str, **params: Unpack[JobResultParams]) -> Page[JobResult]:
        """What the job did to each number so far; filter by ``outcome``."""
        return self._client._page(self._results(job_id, params))

    def cancel(self, job_id: str) -> Job:
        """Stop the job after the numbers in hand (what it changed stays changed)."""
        return self._client._request(self._cancel(job_id))

    def follow(self, job: Job | str) -> BulkJob:
        """A handle on the job that can ``wait`` for it."""
        return BulkJob(self._client, job if isinstance(job, Job) else self.get(job))


class AsyncJobs(_JobRequests, AsyncResource):
    """Bulk jobs, for :class:`~voxnumbers_client.AsyncClient`."""

    def list(self, **params: Unpack[JobListParams]) -> AsyncPaginator[Job]:
        """List jobs: ``await`` for the first page or ``async for`` over all."""
        return self._client._page(self._list(params))

    async def get(self, job_id: str) -> Job:
        """One job and its progress."""
        return await self._client._request(self._get(job_id))

    def results(self, job_id: str, **params: Unpack[JobResultParams]) -> AsyncPaginator[JobResult]:
        """What the job did to each number so far."""
        return self._client._page(self._results(job_id, params))

    async def cancel(self, job_id: str) -> Job:
        """Stop the job after the numbers in hand."""
        return await self._client._request(self._cancel(job_id))

    async def follow(self, job: Job | str) -> AsyncBulkJob:
        """A handle on the job that can ``wait`` for it."""
        return AsyncBulkJob(self._client, job if isinstance(job, Job) else await self.get(job))


class BulkJob:
    """A running bulk job: ``job`` is what was last read of it; ``wait()`` reads it until
    it ends, telling ``on_progress`` each time."""

    def __init__(self, client: Client, job: Job) -> None:
        self._client = client
        self.job = job

    @property
    def id(self) -> str:
        return self.job.id

    @property
    def progress(self) -> float:
        """The share of its numbers processed so far, from 0.0 to 1.0."""
        return self.job.progress

    @property
    def done(self) -> bool:
        return self.job.done

    def refresh(self) -> Job:
        """Read the job again."""
        self.job = self._client.jobs.get(self.job.id)
        return self.job

    def wait(
        self,
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float | None = None,
        on_progress: Callable[[Job], object] | None = None,
    ) -> Job:
        """Read the job every ``poll_interval`` seconds until it ends; the final job.
        ``TimeoutError`` after ``timeout`` seconds (the job keeps running). A read refused
        for the key's rate limit is waited out (``Retry-After``), not raised: the job runs
        on whatever the polling does."""
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = poll_interval
        while True:
            if on_progress is not None:
                on_progress(self.job)
            if self.job.done:
                return self.job
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"job {self.job.id} is still {self.job.status}")
            self._client._sleep(pause)
            try:
                self.refresh()
                pause = poll_interval
            except RateLimitedError as limited:
                pause = _after_rate_limit(limited, poll_interval)

    def cancel(self) -> Job:
        """Cancel the job."""
        self.job = self._client.jobs.cancel(self.job.id)
        return self.job

    def results(self, **params: Unpack[JobResultParams]) -> Page[JobResult]:
        """What the job did to each number so far."""
        return self._client.jobs.results(self.job.id, **params)


class AsyncBulkJob:
    """:class:`BulkJob` for :class:`~voxnumbers_client.AsyncClient`."""

    def __init__(self, client: AsyncClient, job: Job) -> None:
        self._client = client
        self.job = job

    @property
    def id(self) -> str:
        return self.job.id

    @property
    def progress(self) -> float:
        return self.job.progress

    @property
    def done(self) -> bool:
        return self.job.done

    async def refresh(self) -> Job:
        """Read the job again."""
        self.job = await self._client.jobs.get(self.job.id)
        return self.job

    async def wait(
        self,
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float | None = None,  # noqa: ASYNC109 - the keywords of BulkJob.wait
        on_progress: Callable[[Job], object] | None = None,
    ) -> Job:
        """Read the job every ``poll_interval`` seconds until it ends; the final job."""
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = poll_interval
        while True:
            if on_progress is not None:
                told = on_progress(self.job)
                if isinstance(told, Awaitable):
                    await told
            if self.job.done:
                return self.job
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"job {self.job.id} is still {self.job.status}")
            await self._client._sleep(pause)
            try:
                await self.refresh()
                pause = poll_interval
            except RateLimitedError as limited:
                pause = _after_rate_limit(limited, poll_interval)

    async def cancel(self) -> Job:
        """Cancel the job."""
        self.job = await self._client.jobs.cancel(self.job.id)
        return self.job

    def results(self, **params: Unpack[JobResultParams]) -> AsyncPaginator[JobResult]:
        """What the job did to each number so far."""
        return self._client.jobs.results(self.job.id, **params)


def _after_rate_limit(limited: RateLimitedError, poll_interval: float) -> float:
    """How long to wait after a read refused for the rate limit: what the server asks."""
    return max(poll_interval, limited.retry_after or 1.0)


__all__ = ["AsyncBulkJob", "AsyncJobs", "BulkJob", "Jobs"]
