"""All SQL of voice applications. Every query names the account as well as the object."""

from __future__ import annotations

from voxnumbers.applications.schemas import ApplicationRecord
from voxnumbers.db.tables import applications
from voxnumbers.kit.account_rows import AccountRows

APPLICATIONS = AccountRows(applications, ApplicationRecord, id_prefix="app")
