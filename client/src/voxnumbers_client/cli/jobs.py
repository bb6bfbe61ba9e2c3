"""``vox jobs …``: the account's bulk jobs (start one with `vox numbers bulk`)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from voxnumbers_client._models import Job, JobResult
from voxnumbers_client._params import JobListParams, JobResultParams
from voxnumbers_client.cli._options import AllOption, LimitOption, api_options, walking
from voxnumbers_client.cli._output import OutputOption, print_item, print_page
from voxnumbers_client.cli._state import client_of

app = typer.Typer(help="Bulk jobs: list, follow, read their results, cancel.", no_args_is_help=True)

JobIdArgument = Annotated[str, typer.Argument(help="The job's id (job_…).")]


@app.command("list")
@api_options(JobListParams)
def list_jobs(
    ctx: typer.Context,
    params: dict[str, Any],
    all_pages: AllOption = False,
    limit: LimitOption = None,
    output: OutputOption = None,
) -> None:
    """List bulk jobs, newest first."""
    result = client_of(ctx).jobs.list(**walking(params, all_pages, limit))
    print_page(result, Job, output, all_pages=all_pages, noun="jobs", limit=limit)


@app.command("get")
def get_job(ctx: typer.Context, job_id: JobIdArgument, output: OutputOption = None) -> None:
    """Show a job and its progress."""
    print_item(client_of(ctx).jobs.get(job_id), output)


@app.command("results")
@api_options(JobResultParams)
def job_results(
    ctx: typer.Context,
    job_id: JobIdArgument,
    params: dict[str, Any],
    all_pages: AllOption = False,
    limit: LimitOption = None,
    output: OutputOption = None,
) -> None:
    """What a job did to each number it has processed: changed, unchanged or failed."""
    result = client_of(ctx).jobs.results(job_id, **walking(params, all_pages, limit))
    print_page(result, JobResult, output, all_pages=all_pages, noun="results", limit=limit)


@app.command("cancel")
def cancel_job(ctx: typer.Context, job_id: JobIdArgument, output: OutputOption = None) -> None:
    """Stop a job after the numbers in hand; what it changed stays changed."""
    print_item(client_of(ctx).jobs.cancel(job_id), output)
