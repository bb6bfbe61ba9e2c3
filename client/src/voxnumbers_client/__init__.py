"""Python SDK and command line for the TryVox numbers API (and voxnumbers servers).

>>> from voxnumbers_client import Client
>>> with Client(api_key="tvx_sk_test_...", account_id="acc_123abc") as client:
...     number = client.numbers.purchase("+14155551234", country="US")

Names are imported on first use (PEP 562): ``vox --version`` and a script that needs only
``Client`` do not pay for the rest.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from voxnumbers_client._version import __version__

if TYPE_CHECKING:
    from voxnumbers_client import webhooks
    from voxnumbers_client._base import RawResponse
    from voxnumbers_client._client import AsyncClient, Client
    from voxnumbers_client._config import DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
    from voxnumbers_client._errors import (
        ConflictError,
        ErrorDetail,
        ForbiddenError,
        InternalServerError,
        MethodNotAllowedError,
        NotFoundError,
        PayloadTooLargeError,
        PreconditionFailedError,
        RateLimitedError,
        ServiceUnavailableError,
        UnauthorizedError,
        UnsupportedMediaTypeError,
        ValidationFailedError,
        VoxAPIError,
        VoxConfigError,
        VoxConnectionError,
        VoxError,
        VoxResponseError,
        VoxTimeoutError,
    )
    from voxnumbers_client._models import (
        Application,
        AvailableNumber,
        BulkConflict,
        BulkPlan,
        Event,
        IpAclEntry,
        Job,
        JobError,
        JobResult,
        Model,
        Number,
        NumberRelease,
        NumberRouting,
        Pagination,
        ReleasePreview,
        Trunk,
        TrunkCredential,
        WebhookDelivery,
        WebhookEndpoint,
    )
    from voxnumbers_client._pagination import AsyncPage, AsyncPaginator, Page
    from voxnumbers_client._params import (
        ApplicationFields,
        ApplicationUpdate,
        EventListParams,
        InventorySearchParams,
        JobListParams,
        JobResultParams,
        NumberFilters,
        NumberListParams,
        PageParams,
        TrunkFields,
        TrunkUpdate,
    )
    from voxnumbers_client._streaming import AsyncExportStream, ExportStream
    from voxnumbers_client.resources.jobs import AsyncBulkJob, BulkJob
    from voxnumbers_client.webhooks import SignatureVerificationError

#: Where each public name lives.
_WHERE: dict[str, str] = {
    "DEFAULT_BASE_URL": "voxnumbers_client._config",
    "DEFAULT_MAX_RETRIES": "voxnumbers_client._config",
    "DEFAULT_TIMEOUT": "voxnumbers_client._config",
    "Application": "voxnumbers_client._models",
    "ApplicationFields": "voxnumbers_client._params",
    "ApplicationUpdate": "voxnumbers_client._params",
    "AsyncBulkJob": "voxnumbers_client.resources.jobs",
    "AsyncClient": "voxnumbers_client._client",
    "AsyncExportStream": "voxnumbers_client._streaming",
    "AsyncPage": "voxnumbers_client._pagination",
    "AsyncPaginator": "voxnumbers_client._pagination",
    "AvailableNumber": "voxnumbers_client._models",
    "BulkConflict": "voxnumbers_client._models",
    "BulkJob": "voxnumbers_client.resources.jobs",
    "BulkPlan": "voxnumbers_client._models",
    "Client": "voxnumbers_client._client",
    "ConflictError": "voxnumbers_client._errors",
    "ErrorDetail": "voxnumbers_client._errors",
    "Event": "voxnumbers_client._models",
    "EventListParams": "voxnumbers_client._params",
    "ExportStream": "voxnumbers_client._streaming",
    "ForbiddenError": "voxnumbers_client._errors",
    "InternalServerError": "voxnumbers_client._errors",
    "InventorySearchParams": "voxnumbers_client._params",
    "IpAclEntry": "voxnumbers_client._models",
    "Job": "voxnumbers_client._models",
    "JobError": "voxnumbers_client._models",
    "JobListParams": "voxnumbers_client._params",
    "JobResult": "voxnumbers_client._models",
    "JobResultParams": "voxnumbers_client._params",
    "MethodNotAllowedError": "voxnumbers_client._errors",
    "Model": "voxnumbers_client._models",
    "NotFoundError": "voxnumbers_client._errors",
    "Number": "voxnumbers_client._models",
    "NumberFilters": "voxnumbers_client._params",
    "NumberListParams": "voxnumbers_client._params",
    "NumberRelease": "voxnumbers_client._models",
    "NumberRouting": "voxnumbers_client._models",
    "Page": "voxnumbers_client._pagination",
    "PageParams": "voxnumbers_client._params",
    "Pagination": "voxnumbers_client._models",
    "PayloadTooLargeError": "voxnumbers_client._errors",
    "PreconditionFailedError": "voxnumbers_client._errors",
    "RateLimitedError": "voxnumbers_client._errors",
    "RawResponse": "voxnumbers_client._base",
    "ReleasePreview": "voxnumbers_client._models",
    "ServiceUnavailableError": "voxnumbers_client._errors",
    "SignatureVerificationError": "voxnumbers_client.webhooks",
    "Trunk": "voxnumbers_client._models",
    "TrunkCredential": "voxnumbers_client._models",
    "TrunkFields": "voxnumbers_client._params",
    "TrunkUpdate": "voxnumbers_client._params",
    "UnauthorizedError": "voxnumbers_client._errors",
    "UnsupportedMediaTypeError": "voxnumbers_client._errors",
    "ValidationFailedError": "voxnumbers_client._errors",
    "VoxAPIError": "voxnumbers_client._errors",
    "VoxConfigError": "voxnumbers_client._errors",
    "VoxConnectionError": "voxnumbers_client._errors",
    "VoxError": "voxnumbers_client._errors",
    "VoxResponseError": "voxnumbers_client._errors",
    "VoxTimeoutError": "voxnumbers_client._errors",
    "WebhookDelivery": "voxnumbers_client._models",
    "WebhookEndpoint": "voxnumbers_client._models",
    "webhooks": "voxnumbers_client.webhooks",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'voxnumbers_client' has no attribute {name!r}")
    if name == "webhooks":
        value: Any = importlib.import_module(module)
    else:
        value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
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
