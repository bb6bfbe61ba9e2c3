"""HTTP surface of bulk operations and jobs (thin: parse, call one service function, return)."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, Router, get, post
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody, Parameter

from voxnumbers.accounts.schemas import Caller
from voxnumbers.jobs import service
from voxnumbers.jobs.schemas import (
    MAX_BODY_BYTES,
    BulkPlan,
    BulkRequest,
    Job,
    JobPage,
    JobResultPage,
    JobStatus,
    Outcome,
)
from voxnumbers.kit.pagination import PER_PAGE_DEFAULT, PageNumber, PerPage
from voxnumbers.settings import Settings
from voxnumbers.web.handlers import Conn, answers
from voxnumbers.web.json import JsonResponse
from voxnumbers.web.openapi import error_responses

Who = NamedDependency[Caller]
JobId = Annotated[str, Parameter(description="The job's id (`job_…`).")]

LOCATION_HEADER = [
    ResponseHeader(
        name="Location",
        description="Where the job is read: `/v1/account/{account_id}/jobs/{job_id}`.",
        documentation_only=True,
        value="/v1/account/acc_x/jobs/job_x",
    )
]


@post(
    "/numbers/bulk",
    summary="Change many numbers at once (or plan it with a dry run)",
    status_code=202,
    responses={
        200: ResponseSpec(
            data_container=BulkPlan,
            description="The plan of a dry run (`dry_run: true`); nothing was changed.",
            generate_examples=False,
        ),
        **error_responses(400, 409, 413, 415),
    },
    response_headers=LOCATION_HEADER,
    request_max_body_size=MAX_BODY_BYTES,
    tags=["numbers"],
)
async def start_bulk(
    conn: Conn, caller: Who, settings: NamedDependency[Settings], data: JSONBody[BulkRequest]
) -> Response[Job]:
    """A job that changes every listed (or filtered) number as its single-number endpoint
    would, run in the background: ``202`` with the job and its ``Location``. With
    ``dry_run``, ``200`` with what it would do, changing nothing."""
    answer = await service.start_bulk(conn, caller.account_id, data, settings)
    if isinstance(answer, BulkPlan):
        return JsonResponse(answer, status_code=200)
    location = f"/v1/account/{caller.public_account_id}/jobs/{answer.id}"
    return JsonResponse(answer, status_code=202, headers={"Location": location})


@get("/jobs", summary="List your bulk jobs", responses=error_responses(400))
async def list_jobs(
    conn: Conn,
    caller: Who,
    status: Annotated[JobStatus | None, Parameter(description="Only jobs in this status.")] = None,
    page: PageNumber = 1,
    per_page: PerPage = PER_PAGE_DEFAULT,
) -> JobPage:
    """The account's jobs, newest first."""
    return await service.list_jobs(
        conn, caller.account_id, status=status, page=page, per_page=per_page
    )


@get("/jobs/{job_id:str}", summary="Get a bulk job", responses=error_responses(400, 404))
async def get_job(conn: Conn, caller: Who, job_id: JobId) -> Job:
    """One job and its progress."""
    return await service.get_job(conn, caller.account_id, job_id)


@get(
    "/jobs/{job_id:str}/results",
    summary="What a bulk job did to each number",
    responses=error_responses(400, 404),
)
async def list_results(
    conn: Conn,
    caller: Who,
    job_id: JobId,
    outcome: Annotated[
        Outcome | None, Parameter(description="Only numbers with this outcome.")
    ] = None,
    page: PageNumber = 1,
    per_page: PerPage = PER_PAGE_DEFAULT,
) -> JobResultPage:
    """Each number the job has processed, in the order it did them, with its outcome."""
    return await service.list_results(
        conn, caller.account_id, job_id, outcome=outcome, page=page, per_page=per_page
    )


@post("/jobs/{job_id:str}/cancel", summary="Cancel a bulk job", **answers(200, 400, 404, 409, 415))
async def cancel_job(conn: Conn, caller: Who, job_id: JobId) -> Job:
    """Stop the job after the numbers in hand; what it changed stays changed."""
    return await service.cancel_job(conn, caller.account_id, job_id)


router = Router(
    path="/v1/account/{account_id:str}",
    route_handlers=[start_bulk, list_jobs, get_job, list_results, cancel_job],
    tags=["jobs"],
)
