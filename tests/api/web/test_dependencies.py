"""A handler's dependencies are resolved one after another (``web/routes.repair_routes``):
Litestar starts a task group only for a batch of several, and no request makes one."""

from __future__ import annotations

from typing import Any

import litestar._kwargs.kwargs_model as kwargs_model
import pytest

from tests.api.support import buy
from tests.factories import US_NUMBERS, entry, make_tenant, stock


async def test_no_request_resolves_its_dependencies_in_a_task_group(
    client, database, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await make_tenant(database)
    await stock(database, entry(US_NUMBERS[0]))
    started: list[object] = []
    real = kwargs_model.create_task_group

    def counted() -> Any:
        started.append(object())
        return real()

    monkeypatch.setattr(kwargs_model, "create_task_group", counted)
    listed = await client.get(
        tenant.path("/numbers"), params={"country": "US", "per_page": 100}, headers=tenant.bearer
    )
    bought = await buy(client, tenant, US_NUMBERS[0])
    got = await client.get(tenant.path(f"/numbers/{US_NUMBERS[0]}"), headers=tenant.bearer)

    assert (listed.status_code, bought.status_code, got.status_code) == (200, 201, 200)
    assert started == []
