"""``/docs``: Swagger UI over the server's own OpenAPI description, with every asset served
by this server (``/docs/assets``), so the page works offline.

The assets are swagger-ui-dist 5.35.0 from npm (Apache-2.0; ``static/swagger-ui/LICENSE``
and ``NOTICE``), copied unchanged: ``swagger-ui-bundle.js``,
``swagger-ui-standalone-preset.js``, ``swagger-ui.css`` and ``favicon-32x32.png``.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Router
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

SWAGGER_UI_VERSION = "5.35.0"
ASSETS_PATH = "/docs/assets"
_ASSETS = Path(__file__).parent / "static" / "swagger-ui"


def swagger_ui() -> SwaggerRenderPlugin:
    """The ``/docs`` page, loading Swagger UI from ``/docs/assets`` rather than a CDN."""
    return SwaggerRenderPlugin(
        path="/",
        js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        css_url=f"{ASSETS_PATH}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>",
    )


def swagger_ui_assets() -> Router:
    """The files the ``/docs`` page loads."""
    return create_static_files_router(
        path=ASSETS_PATH, directories=[_ASSETS], include_in_schema=False, name="docs-assets"
    )
