"""``GET /healthz``: the database's and Redis' state, 200 when both answer, 503 when one is down."""

from __future__ import annotations

import httpx
import pytest

from tests.servers import free_port, live_server

pytestmark = pytest.mark.django_db(transaction=True)


async def test_healthz_is_ok_with_a_reachable_database(client):
    response = await client.http.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True and body["checks"]["database"]["ms"] >= 0
    assert response.headers["cache-control"] == "no-store"


async def test_healthz_is_503_when_redis_is_down(client, settings):
    # A Redis cache on a port nobody listens on: Redis is configured, and away.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    response = await client.http.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is False and "ConnectionError" in body["checks"]["redis"]["error"]


def test_healthz_is_503_when_the_database_is_down(tmp_path):
    # A real server process whose database can't be opened (its folder doesn't exist).
    missing = tmp_path / "no-such-folder" / "db.sqlite3"
    with live_server(tmp_path, database_url=f"sqlite:///{missing}") as live:
        response = httpx.get(live.url + "/healthz", timeout=10)
    assert response.status_code == 503
    database = response.json()["checks"]["database"]
    assert database["ok"] is False and "OperationalError" in database["error"]


def test_healthz_answers_plain_http_when_https_redirects_everything_else(settings):
    from django.test import Client

    settings.SECURE_SSL_REDIRECT = True
    http = Client()
    assert http.get("/healthz").status_code == 200  # probes come over plain HTTP (SECURE_REDIRECT_EXEMPT)
    assert http.get("/").status_code == 301
