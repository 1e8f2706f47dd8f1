"""``GET /healthz``: whether this process can reach its database and, where configured, Redis.

For load balancers and orchestrators: 200 ``{"status": "ok", "checks": {...}}``
when every check passes, else 503 ``{"status": "unavailable", ...}``. Each
check is ``{"ok": bool, "ms": float}`` plus ``"error"`` (the exception's
class and message) when it fails, and gives up after :data:`TIMEOUT` seconds.
The ``redis`` check is there when the cache is Redis (``REDIS_URL``); the
Channels layer uses the same server.
"""

from __future__ import annotations

import asyncio
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse

TIMEOUT = 3.0  # seconds per check


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _redis() -> None:
    # A round trip that writes and reads, as the rate limits and sessions do.
    cache.set("healthz", "ok", timeout=10)
    if cache.get("healthz") != "ok":
        raise RuntimeError("the cache did not return what was written")


def redis_configured() -> bool:
    """Whether the default cache is Redis (``REDIS_URL`` set)."""
    return settings.CACHES["default"]["BACKEND"].endswith("RedisCache")


async def _run(check) -> dict:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(TIMEOUT):
            await sync_to_async(check)()
    except Exception as exc:  # any failure is the answer, not an error page
        error = f"{type(exc).__name__}: {exc}".strip().splitlines()[0][:200] if str(exc) else type(exc).__name__
        return {"ok": False, "ms": round((time.perf_counter() - started) * 1000, 1), "error": error}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


async def healthz(request) -> JsonResponse:
    """200 when the database (and Redis, if configured) answer; 503 otherwise. Never cached."""
    checks = {"database": await _run(_database)}
    if redis_configured():
        checks["redis"] = await _run(_redis)
    ok = all(check["ok"] for check in checks.values())
    response = JsonResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503)
    response["Cache-Control"] = "no-store"
    return response
