"""The resource classes behind ``client.numbers``, ``client.trunks``, … (for type hints)."""

from voxnumbers_client.resources.applications import Applications, AsyncApplications
from voxnumbers_client.resources.events import AsyncEvents, Events
from voxnumbers_client.resources.inventory import AsyncInventory, Inventory
from voxnumbers_client.resources.jobs import AsyncJobs, Jobs
from voxnumbers_client.resources.numbers import AsyncNumbers, Numbers
from voxnumbers_client.resources.trunks import (
    AsyncTrunkCredentials,
    AsyncTrunkIpAcl,
    AsyncTrunks,
    TrunkCredentials,
    TrunkIpAcl,
    Trunks,
)
from voxnumbers_client.resources.webhooks import AsyncWebhooks, Webhooks

__all__ = [
    "Applications",
    "AsyncApplications",
    "AsyncEvents",
    "AsyncInventory",
    "AsyncJobs",
    "AsyncNumbers",
    "AsyncTrunkCredentials",
    "AsyncTrunkIpAcl",
    "AsyncTrunks",
    "AsyncWebhooks",
    "Events",
    "Inventory",
    "Jobs",
    "Numbers",
    "TrunkCredentials",
    "TrunkIpAcl",
    "Trunks",
    "Webhooks",
]
