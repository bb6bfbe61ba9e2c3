"""Dependencies of plain plumbing that the routers provide to their handlers."""

from __future__ import annotations

from litestar.datastructures import State

from voxnumbers.settings import Settings


def provide_settings(state: State) -> Settings:
    """The settings the application was created with."""
    settings: Settings = state.settings
    return settings
