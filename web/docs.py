"""The API's documentation pages, /docs (Swagger UI) and /redoc, under a policy of their own.

FastAPI's pages load Swagger UI and ReDoc from the jsDelivr CDN, and Swagger UI is started by
an inline script. Each page is rendered once; its policy lets scripts come from the CDN and
the inline script run by its hash, nothing else. Styles may be inline on these two pages only:
ReDoc writes its styles into <style> elements as it renders. The pages show our own OpenAPI
schema and hold no personal data.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

from web.security_headers import CSP

CDN = "https://cdn.jsdelivr.net"
FAVICON_HOST = "https://fastapi.tiangolo.com"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def inline_script_hashes(html: bytes) -> list[str]:
    """CSP sources for the page's inline scripts: 'sha256-…' of each one's text."""
    return [
        f"'sha256-{base64.b64encode(hashlib.sha256(found).digest()).decode()}'"
        for found in _INLINE_SCRIPT.findall(html)
    ]


def _policy(*directives: str) -> str:
    common = ("frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'")
    return "; ".join(("default-src 'none'", *directives, *common))


def _page(html: bytes, policy: str) -> HTMLResponse:
    return HTMLResponse(html, headers={CSP: policy})


def add_docs(app: FastAPI) -> None:
    """/docs and /redoc for an app made with docs_url=None and redoc_url=None."""
    assert app.openapi_url is not None
    swagger = bytes(
        get_swagger_ui_html(
            openapi_url=app.openapi_url, title=f"{app.title} - Swagger UI", oauth2_redirect_url=None
        ).body
    )
    redoc = bytes(get_redoc_html(openapi_url=app.openapi_url, title=f"{app.title} - ReDoc").body)
    images = f"img-src 'self' data: {FAVICON_HOST}"
    swagger_policy = _policy(
        f"script-src {CDN} {' '.join(inline_script_hashes(swagger))}",
        f"style-src {CDN} 'unsafe-inline'",
        images,
        "font-src data:",
        "connect-src 'self'",
    )
    redoc_policy = _policy(
        f"script-src {CDN}",
        "style-src 'unsafe-inline' https://fonts.googleapis.com",
        "font-src https://fonts.gstatic.com",
        f"{images} https://cdn.redoc.ly",
        "connect-src 'self'",
        # ReDoc's search runs in a worker made from a blob.
        "worker-src blob:",
    )
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    async def swagger_ui() -> HTMLResponse:
        """The API in Swagger UI."""
        return _page(swagger, swagger_policy)

    @router.get("/redoc")
    async def redoc_page() -> HTMLResponse:
        """The API in ReDoc."""
        return _page(redoc, redoc_policy)

    app.include_router(router)
