"""Python SDK and command line for the TryVox numbers API (and voxnumbers servers).

>>> from voxnumbers_client import Client
>>> with Client(api_key="tvx_sk_test_...", account_id="acc_123abc") as client:
...     number = client.numbers.purchase("+14155551234", country="US")
"""

from voxnumbers_client import webhooks
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
    Event,
    IpAclEntry,
    Model,
    Number,
    NumberRelease,
    NumberRouting,
    Pagination,
    ReleasePreview,
    Trunk,
    TrunkCredential,
    WebhookEndpoint,
)
from voxnumbers_client._pagination import AsyncPage, AsyncPaginator, Page
from voxnumbers_client._params import (
    ApplicationFields,
    ApplicationUpdate,
    EventListParams,
    InventorySearchParams,
    NumberFilters,
    NumberListParams,
    PageParams,
    TrunkFields,
)
from voxnumbers_client._streaming import AsyncExportStream, ExportStream
from voxnumbers_client._version import __version__
from voxnumbers_client.webhooks import SignatureVerificationError

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "Application",
    "ApplicationFields",
    "ApplicationUpdate",
    "AsyncClient",
    "AsyncExportStream",
    "AsyncPage",
    "AsyncPaginator",
    "AvailableNumber",
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
    "ReleasePreview",
    "ServiceUnavailableError",
    "SignatureVerificationError",
    "Trunk",
    "TrunkCredential",
    "TrunkFields",
    "UnauthorizedError",
    "UnsupportedMediaTypeError",
    "ValidationFailedError",
    "VoxAPIError",
    "VoxConfigError",
    "VoxConnectionError",
    "VoxError",
    "VoxResponseError",
    "VoxTimeoutError",
    "WebhookEndpoint",
    "__version__",
    "webhooks",
]
