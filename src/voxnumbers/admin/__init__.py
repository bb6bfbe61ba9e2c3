"""Operators: operator tokens and the admin API (``/admin/v1``), over the same services as
the ``vox admin`` commands."""
