"""Building what the API shows of a stored object from that object."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

View = TypeVar("View", bound=msgspec.Struct)


def view_of(view_type: type[View], stored: object, **computed: Any) -> View:
    """A ``view_type`` whose fields are ``stored``'s attributes of the same names, except
    those given in ``computed``."""
    fields = {
        name: getattr(stored, name) for name in view_type.__struct_fields__ if name not in computed
    }
    return view_type(**fields, **computed)
