"""Fault tests: real ``vox serve`` processes on a private PostgreSQL cluster that the tests
stop, start and crash at will (``bench.fault``), never the machine's own PostgreSQL.

One cluster serves the whole package, prepared once as an operator would (``vox migrate``,
two accounts with a key each from ``vox admin``); each test puts numbers nobody used before
up for sale. The cluster is running again before every test, whatever the previous one did,
and is stopped and deleted at the end of the session even when a test fails.

Needs PostgreSQL's server binaries (``initdb``, ``pg_ctl``; Debian's ``postgresql``
package): with ``CI=true`` they are required, elsewhere the tests are skipped without them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bench.fault.cluster import PrivatePostgres, postgres_bin_dir
from bench.fault.scenario import Deployment
from bench.fault.server import ServerProcess, Tenant

from tests.conftest import IN_CI
from tests.faults.support import serving


@pytest.fixture(scope="session")
def fault_cluster() -> Iterator[PrivatePostgres]:
    """The private cluster of this run (127.0.0.1, a free port, a temporary directory)."""
    if postgres_bin_dir() is None:
        message = "fault tests need PostgreSQL's server binaries (initdb, pg_ctl)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    with PrivatePostgres() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def deployment(
    fault_cluster: PrivatePostgres, tmp_path_factory: pytest.TempPathFactory
) -> Deployment:
    """The cluster migrated with ``vox migrate``, with two accounts and their keys."""
    return Deployment(fault_cluster, tmp_path_factory.mktemp("faults"))


@pytest.fixture(autouse=True)
def _cluster_running(request: pytest.FixtureRequest) -> None:
    """Each test starts with the cluster up, even after a test that failed while it was down."""
    if "deployment" in request.fixturenames or "fault_cluster" in request.fixturenames:
        cluster: PrivatePostgres = request.getfixturevalue("fault_cluster")
        if not cluster.running:
            cluster.start()


@pytest.fixture(scope="module")
def server(deployment: Deployment) -> Iterator[ServerProcess]:
    """One server process for the module's tests (tests that kill it start it again)."""
    with serving(deployment) as process:
        yield process


@pytest.fixture(scope="session")
def tenant(deployment: Deployment) -> Tenant:
    return deployment.tenants[0]
