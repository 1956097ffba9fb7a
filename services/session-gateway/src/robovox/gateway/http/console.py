"""The operator console: its static files at ``/console/``; ``/`` leads there.

The Inspect view's plots are drawn with dygraphs (MIT), whose script the ``dygraphs`` package
ships (``dygraphs/assets/dygraph-combined.js``, its licence header kept); the gateway serves that
file as ``/console/lib/dygraph.js``, so the console loads nothing from elsewhere."""

# No ``from __future__ import annotations``: FastAPI reads the route annotations.
import logging
from importlib import metadata, resources
from pathlib import Path
from typing import Final

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

PLOT_SCRIPT: Final = "/console/lib/dygraph.js"


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/console/")


def plot_library() -> Path | None:
    """dygraphs' script as the ``dygraphs`` package installed it (found without importing the
    package's Python), or None when it is missing."""
    try:
        found = Path(str(metadata.distribution("dygraphs").locate_file("dygraphs/assets/dygraph-combined.js")))
    except metadata.PackageNotFoundError:
        return None
    return found if found.is_file() else None


def mount_console(app: FastAPI) -> None:
    folder = resources.files("robovox.gateway") / "console"
    if not folder.is_dir():
        return
    script = plot_library()
    if script is None:
        log.warning("the dygraphs package's script is missing: the console's Inspect view draws no plot")
    else:

        @app.get(PLOT_SCRIPT, include_in_schema=False)
        async def plot_script() -> FileResponse:
            return FileResponse(script, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    app.mount("/console", StaticFiles(directory=str(folder), html=True), name="console")
    app.include_router(router)
