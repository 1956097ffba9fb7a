"""The gateway's API docs come with their own assets: /docs and /redoc name nothing off the box."""

from __future__ import annotations

import re

import httpx2

from robovox.gateway.http.docs import DOCS_ASSETS, ONLY_THIS_BOX
from robovox.gateway.service import SessionGateway


async def test_docs_pages_load_their_assets_from_the_gateway_itself(gateway: SessionGateway) -> None:
    async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{gateway.api_port}") as anonymous:
        for page, assets in [
            ("/docs", ["swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"]),
            ("/redoc", ["redoc.standalone.js", "favicon.png"]),
        ]:
            html = await anonymous.get(page)
            assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
            assert re.findall(r"https?://", html.text) == [], f"{page} names another host"
            assert html.headers["content-security-policy"] == ONLY_THIS_BOX
            for asset in assets:
                assert f"{DOCS_ASSETS}/{asset}" in html.text
                served = await anonymous.get(f"{DOCS_ASSETS}/{asset}")
                assert served.status_code == 200 and len(served.content) > 1000, asset
        assert '"validatorUrl": null' in (await anonymous.get("/docs")).text  # no badge fetched from swagger.io
        assert (await anonymous.get("/openapi.json")).json()["info"]["title"] == "RoboVox session gateway"
