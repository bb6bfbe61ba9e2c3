"""Corrections to the routes Litestar builds, applied once the application exists.

Three things the framework gets wrong for this API, each fixed where it starts:

- **Validation after ``/openapi.json``.** Building the OpenAPI description adds a field for
  every path parameter a handler does not take (``account_id`` on most routes) to the
  handler's parsed signature, in place (``litestar._openapi.parameters``,
  ``create_parameters_for_handler``). That dict is also the handler's signature model's
  ``_fields``, which the framework walks to name the fields of a failed validation: once the
  description had been served, every framework-level validation error gained a false
  detail ``{"field": "account_id", "reason": "'account_id'"}`` (a ``KeyError`` of the
  missing value). Each signature model gets its own copy of its fields, which the OpenAPI
  description can no longer change.
- **``OPTIONS`` lists every method.** Litestar makes the ``OPTIONS`` handler of a path with
  its first route handler and keeps it when more handlers join the path, so it listed only
  the first one's methods while a ``405`` on the same path listed all of them. Each path's
  ``OPTIONS`` answers with the methods of the path as it finally is.
- **Dependencies one after another.** Litestar resolves a handler's dependencies in batches
  (those a batch needs come from the batches before it) and the dependencies of a batch
  concurrently, each in a task of an anyio task group: every ``/v1`` handler takes two or
  three that need nothing of each other (``conn``, ``caller``, the list's ``filters``…), so
  every request paid for a task group and a task per dependency to run functions that do
  not wait (the transaction is already open when ``conn`` is asked for). Each is resolved
  on its own, in the batches' order and, within a batch, by name: one order, where the task
  group's varied with the names' hashes.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any

from litestar import Litestar, Response
from litestar.routes import HTTPRoute
from litestar.status_codes import HTTP_204_NO_CONTENT
from litestar.types import Scope


def repair_routes(app: Litestar) -> None:
    """Apply the three corrections to every HTTP route of ``app``."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            model: Any = handler.signature_model
            model._fields = dict(model._fields)
        for _, kwargs_model in route.route_handler_map.values():
            kwargs_model.dependency_batches = [
                {dependency}
                for batch in kwargs_model.dependency_batches
                for dependency in sorted(batch, key=attrgetter("key"))
            ]
        options = route.route_handler_map.get("OPTIONS")
        if options is not None and options[0].handler_name == "options_handler":
            options[0]._fn = _options_answer(sorted(route.methods))


def _options_answer(methods: list[str]) -> Any:
    allow = ", ".join(methods)

    def options_handler(scope: Scope) -> Response[None]:
        """``OPTIONS``: the methods of this path (``RequestIdMiddleware`` gives the body)."""
        return Response(content=None, status_code=HTTP_204_NO_CONTENT, headers={"Allow": allow})

    return options_handler
