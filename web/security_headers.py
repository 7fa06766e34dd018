"""Security headers on every response, from one place: our pages' policy for HTML, a policy
that allows nothing for everything else (JSON, feeds, files), and the same framing, sniffing
and referrer rules for all. A route that needs another policy (the API docs) sets its own
Content-Security-Policy, and it is kept."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# What our own pages need: no scripts at all, styles only from our own stylesheets, forms
# posted only back to us, never framed.
PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# Anything that is not a page renders nothing, even when a browser is tricked into showing it.
NOTHING_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Our own pages may see where a visitor came from within the site; no one else may.
    "Referrer-Policy": "same-origin",
}
CSP = "Content-Security-Policy"


def policy_for(content_type: str) -> str:
    """The Content-Security-Policy for a response of this type."""
    return PAGE_POLICY if content_type.startswith("text/html") else NOTHING_POLICY


class SecurityHeaders:
    """ASGI middleware: adds the headers each response has not set itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS.items():
                    headers.setdefault(name, value)
                headers.setdefault(CSP, policy_for(headers.get("content-type", "")))
            await send(message)

        await self.app(scope, receive, with_headers)
