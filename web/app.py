"""The HTTP side of the service (Starlette): health now; feeds, the agenda page and the webhook
join it in the same app and event loop."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from models.db import Database


def create_app(database: Database, scheduler_running: Callable[[], bool]) -> Starlette:
    async def healthz(_request: Request) -> JSONResponse:
        checks = {"database": "ok", "scheduler": "ok" if scheduler_running() else "stopped"}
        try:
            async with database.read() as session:
                await session.execute(text("SELECT 1"))
        except Exception as error:  # any failure means "not healthy"; say which
            checks["database"] = f"error: {type(error).__name__}"
        healthy = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ok" if healthy else "unhealthy", **checks},
            status_code=200 if healthy else 503,
        )

    return Starlette(routes=[Route("/healthz", healthz, methods=["GET", "HEAD"])])
