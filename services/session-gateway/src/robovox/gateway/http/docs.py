"""The API's documentation pages, whole on the box: ``/docs`` (Swagger UI) and ``/redoc`` with
their scripts, styles and icon served from the ``fastapi-offline`` package, so an edge box
without internet shows them. Each page's Content-Security-Policy lets it load nothing from
elsewhere (ReDoc's sidebar would fetch its maker's logo from a CDN; Swagger UI's validator badge
is off)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

DOCS_ASSETS: Final = "/docs-assets"
"""Where Swagger UI's and ReDoc's files are served."""
ASSETS_DIR: Final = Path(fastapi_offline.__file__).parent / "static"
ONLY_THIS_BOX: Final = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; font-src 'self' data:"
)


def mount_docs(app: FastAPI) -> None:
    """``/docs``, ``/redoc`` and their assets; build ``app`` with ``docs_url=None, redoc_url=None``."""
    app.mount(DOCS_ASSETS, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
    title = app.title

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json", title=f"{title} - Swagger UI",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js", swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png", swagger_ui_parameters={"validatorUrl": None},
        )  # fmt: skip
        page.headers["Content-Security-Policy"] = ONLY_THIS_BOX
        return page

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json", title=f"{title} - ReDoc",
            redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js", redoc_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )  # fmt: skip
        page.headers["Content-Security-Policy"] = ONLY_THIS_BOX
        return page
