"""The operator console: its static files at ``/console/``; ``/`` leads there."""

# No ``from __future__ import annotations``: FastAPI reads the route annotations.
from importlib import resources

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

router = APIRouter(include_in_schema=False)


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/console/")


def mount_console(app: FastAPI) -> None:
    folder = resources.files("robovox.gateway") / "console"
    if not folder.is_dir():
        return
    app.mount("/console", StaticFiles(directory=str(folder), html=True), name="console")
    app.include_router(router)
