"""The package's public surface is deliberate: pinned here, documented everywhere."""

from __future__ import annotations

import inspect

import voxnumbers_client

EXPECTED_ALL = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "Application",
    "ApplicationFields",
    "ApplicationUpdate",
    "AsyncBulkJob",
    "AsyncClient",
    "AsyncExportStream",
    "AsyncPage",
    "AsyncPaginator",
    "AvailableNumber",
    "BulkConflict",
    "BulkJob",
    "BulkPlan",
    "Client",
    "ConflictError",
    "ErrorDetail",
    "Event",
    "EventListParams",
    "ExportStream",
    "ForbiddenError",
    "InternalServerError",
    "InventorySearchParams",
    "IpAclEntry",
    "Job",
    "JobError",
    "JobListParams",
    "JobResult",
    "JobResultParams",
    "MethodNotAllowedError",
    "Model",
    "NotFoundError",
    "Number",
    "NumberFilters",
    "NumberListParams",
    "NumberRelease",
    "NumberRouting",
    "Page",
    "PageParams",
    "Pagination",
    "PayloadTooLargeError",
    "PreconditionFailedError",
    "RateLimitedError",
    "RawResponse",
    "ReleasePreview",
    "ServiceUnavailableError",
    "SignatureVerificationError",
    "Trunk",
    "TrunkCredential",
    "TrunkFields",
    "TrunkUpdate",
    "UnauthorizedError",
    "UnsupportedMediaTypeError",
    "ValidationFailedError",
    "VoxAPIError",
    "VoxConfigError",
    "VoxConnectionError",
    "VoxError",
    "VoxResponseError",
    "VoxTimeoutError",
    "WebhookDelivery",
    "WebhookEndpoint",
    "__version__",
    "webhooks",
]


def test_all_is_pinned() -> None:
    assert voxnumbers_client.__all__ == EXPECTED_ALL


def test_every_public_name_exists_and_classes_have_docstrings() -> None:
    for name in voxnumbers_client.__all__:
        value = getattr(voxnumbers_client, name)
        if inspect.isclass(value) or inspect.ismodule(value):
            assert value.__doc__, f"{name} has no docstring"


def test_public_methods_have_docstrings() -> None:
    from voxnumbers_client import resources

    for name in resources.__all__:
        cls = getattr(resources, name)
        for attr, member in vars(cls).items():
            if not attr.startswith("_") and callable(member):
                assert member.__doc__, f"{name}.{attr} has no docstring"


def test_async_resources_mirror_the_sync_ones() -> None:
    """Same methods, same parameters: only the return types differ (awaitables)."""
    from voxnumbers_client import resources

    for name in resources.__all__:
        if name.startswith("Async"):
            continue
        sync_cls, async_cls = getattr(resources, name), getattr(resources, f"Async{name}")
        sync_methods = {m for m in vars(sync_cls) if not m.startswith("_")}
        assert sync_methods == {m for m in vars(async_cls) if not m.startswith("_")}, name
        for method in sync_methods:
            sync_params = inspect.signature(getattr(sync_cls, method)).parameters
            async_params = inspect.signature(getattr(async_cls, method)).parameters
            assert list(sync_params.values()) == list(async_params.values()), f"{name}.{method}"


def test_clients_expose_the_same_resources() -> None:
    sync_client = voxnumbers_client.Client("tvx_sk_test_x", account_id="acc_x")
    async_client = voxnumbers_client.AsyncClient("tvx_sk_test_x", account_id="acc_x")
    assert (
        {k for k in vars(sync_client) if not k.startswith("_")}
        == {k for k in vars(async_client) if not k.startswith("_")}
        == {"numbers", "inventory", "trunks", "applications", "webhooks", "events", "jobs"}
    )
