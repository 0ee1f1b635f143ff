"""Security headers for every response, in one place (installed by ``web.app.create_app``).

Every response gets ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: no-referrer``
unless its route chose its own. An HTML page also gets a Content-Security-Policy made from the
page itself: its inline ``<style>`` and ``<script>`` blocks are allowed by their SHA-256 hash and
nothing else is (no other scripts, no plugins, no framing, no form posts elsewhere). So a page can
change its inline CSS, or gain a small script, without anyone keeping a policy in step; what the
page must not use are inline event handlers and ``style`` attributes, which hashes cannot allow.
A route that sends its own policy (the sandbox page) keeps it.

The policy of a page is computed once per ETag (our pages are rendered once per change of their
data and carry a strong ETag, see ``web/feeds/cache.py``), so a page request costs a dictionary
lookup here.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
from collections import OrderedDict

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)
CSP = b"content-security-policy"
# Inline blocks of raw text: what is between the tags is exactly what the browser hashes.
_BLOCK = re.compile(rb"<(script|style)\b([^>]*)>(.*?)</\1\s*>", re.IGNORECASE | re.DOTALL)
_SRC = re.compile(rb"\bsrc\s*=", re.IGNORECASE)
_STYLESHEET = re.compile(rb"<link\b[^>]*\brel\s*=\s*[\"']?stylesheet", re.IGNORECASE)
MAX_POLICIES = 256


def content_security_policy(html: bytes) -> bytes:
    """The policy for one HTML document: its own inline blocks by hash, and nothing else."""
    sources: dict[bytes, list[str]] = {b"script": [], b"style": []}
    for match in _BLOCK.finditer(html):
        kind = match.group(1).lower()
        if kind == b"script" and _SRC.search(match.group(2)):
            sources[kind].append("'self'")  # an external script of our own
            continue
        digest = base64.b64encode(hashlib.sha256(match.group(3)).digest()).decode("ascii")
        sources[kind].append(f"'sha256-{digest}'")
    if _STYLESHEET.search(html):
        sources[b"style"].append("'self'")

    def allowed(kind: bytes) -> str:
        return " ".join(dict.fromkeys(sources[kind])) or "'none'"

    directives = [
        "default-src 'none'",
        f"script-src {allowed(b'script')}",
        f"style-src {allowed(b'style')}",
        "img-src 'self' data:",  # QR codes and the favicon
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives).encode("ascii")


class SecurityHeaders:
    """Pure ASGI middleware (cheaper than BaseHTTPMiddleware on every feed poll)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._policies: OrderedDict[bytes, bytes] = OrderedDict()  # ETag -> policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: Message | None = None  # an HTML page's start, until its body is known
        body: list[bytes] = []

        async def send_with_headers(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _value in headers}
                headers += [header for header in ALWAYS if header[0] not in names]
                message = {**message, "headers": headers}
                if CSP not in names and _is_html(headers):
                    held = message
                    return
            elif held is not None and message["type"] == "http.response.body":
                body.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                whole = b"".join(body)
                held["headers"].append((CSP, self._policy(held["headers"], whole)))
                await send(held)
                message = {"type": "http.response.body", "body": whole}
                held = None
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _policy(self, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
        values = {name.lower(): value for name, value in headers}
        etag = values.get(b"etag")
        if etag is not None and (known := self._policies.get(etag)) is not None:
            return known
        if values.get(b"content-encoding") == b"gzip":
            body = gzip.decompress(body)
        policy = content_security_policy(body)
        if etag is not None:
            self._policies[etag] = policy
            while len(self._policies) > MAX_POLICIES:
                self._policies.popitem(last=False)
        return policy


def _is_html(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(
        name.lower() == b"content-type" and value.lower().startswith(b"text/html")
        for name, value in headers
    )
