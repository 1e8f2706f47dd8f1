"""Rate limits and quotas through the real ASGI stack: 429 with Retry-After, per owner and per address."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from django.core.cache import cache

from chat import models
from tests.helpers import CSRF_TOKEN, ChatKitClient, user_input

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def at():
    """``at(address)``: a new client (its own anonymous owner) connecting from ``address``."""
    from chatproject.asgi import application

    opened = []

    def factory(address: str = "203.0.113.7", cookies: httpx.Cookies | None = None) -> ChatKitClient:
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application, client=(address, 40000)), base_url="http://testserver"
        )
        if cookies is not None:
            http.cookies = httpx.Cookies(cookies)
        http.cookies.set("csrftoken", CSRF_TOKEN, domain="testserver.local")
        opened.append(http)
        return ChatKitClient(http)

    return factory


def assert_rate_limited(response: httpx.Response, words: str) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "rate_limited" and words in error["message"], error
    assert 1 <= int(response.headers["Retry-After"]) <= 3600


async def create(client: ChatKitClient, text: str = "hello") -> httpx.Response:
    return await client.request("threads.create", input=user_input(text))


async def test_turns_per_minute_are_counted_per_owner(at, settings):
    settings.CHATKIT_TURNS_PER_MINUTE = 2
    ada = at("203.0.113.7")
    assert (await create(ada)).status_code == 200
    assert (await create(ada)).status_code == 200
    assert_rate_limited(await create(ada), "at most 2 a minute")
    assert await models.Thread.objects.acount() == 2  # refused before anything was stored
    # The same owner from another address is still over its own limit.
    roaming = at("198.51.100.9", cookies=ada.http.cookies)
    assert_rate_limited(await create(roaming), "Too many messages")
    # Reading isn't a turn.
    assert (await ada.request("threads.list")).status_code == 200


async def test_turns_per_minute_are_counted_per_address(at, settings):
    """New owners from one address share its count: minting owners escapes nothing."""
    settings.CHATKIT_TURNS_PER_MINUTE = 2
    assert (await create(at("203.0.113.7"))).status_code == 200
    assert (await create(at("203.0.113.7"))).status_code == 200
    assert_rate_limited(await create(at("203.0.113.7")), "Too many messages")
    assert (await create(at("192.0.2.44"))).status_code == 200


async def test_ipv6_addresses_count_per_64_network(at, settings):
    settings.CHATKIT_TURNS_PER_MINUTE = 1
    assert (await create(at("2001:db8:1:2::1"))).status_code == 200
    assert_rate_limited(await create(at("2001:db8:1:2::ffff")), "Too many messages")
    assert (await create(at("2001:db8:1:3::1"))).status_code == 200


async def test_new_threads_per_hour(at, settings):
    settings.CHATKIT_THREADS_PER_HOUR = 1
    ada = at()
    first = await create(ada)
    assert first.status_code == 200
    assert_rate_limited(await create(ada), "at most 1 an hour")
    assert_rate_limited(await create(at()), "Too many new conversations")  # same address, new owner
    # Turns in the thread the owner has go on.
    thread_id = (await ada.json("threads.list"))["data"][0]["id"]
    more = await ada.request("threads.add_user_message", thread_id=thread_id, input=user_input("more"))
    assert more.status_code == 200


async def test_concurrent_streams_per_owner_are_released_when_a_stream_ends(at, settings, use_model):
    from chat.llm.echo import EchoModel

    settings.CHATKIT_CONCURRENT_STREAMS = 1
    use_model(EchoModel(delay=0.05))
    ada = at()
    await ada.request("threads.list")  # the owner cookie, before two requests go out at once
    long_answer = " ".join(f"w{i}" for i in range(30))
    first = asyncio.create_task(create(ada, long_answer))
    await asyncio.sleep(0.4)  # the first answer is streaming
    assert_rate_limited(await create(ada, "second"), "at most 1 at a time")
    assert (await create(at(), "another owner")).status_code == 200  # per owner, not per address
    assert (await first).status_code == 200  # ended: its slot is free again
    assert (await create(ada, "third")).status_code == 200
    # A connection cut mid-answer gives its slot back too: tests/test_internet_facing.py (a real socket).


async def test_new_anonymous_owners_per_address_per_hour(at, settings):
    settings.CHATKIT_NEW_OWNERS_PER_HOUR = 2
    for _ in range(2):
        visitor = at("203.0.113.7")
        page = await visitor.http.get("/")
        assert page.status_code == 200 and "chatkit_owner" in page.cookies
        assert (await visitor.request("threads.list")).status_code == 200
    third = at("203.0.113.7")
    page = await third.http.get("/")
    assert page.status_code == 200 and "chatkit_owner" not in page.cookies  # the page shows, no owner
    assert_rate_limited(await third.request("threads.list"), "Too many new visitors")
    # A client that skips the page is counted the same way.
    assert_rate_limited(await create(at("203.0.113.7")), "Too many new visitors")
    # Visitors who already have an owner, and other addresses, go on.
    assert (await visitor.request("threads.list")).status_code == 200
    assert (await at("192.0.2.1").request("threads.list")).status_code == 200


def test_the_limits_are_on_by_default():
    from chat.conf import DEFAULTS

    for name in (
        "CHATKIT_TURNS_PER_MINUTE",
        "CHATKIT_THREADS_PER_HOUR",
        "CHATKIT_CONCURRENT_STREAMS",
        "CHATKIT_NEW_OWNERS_PER_HOUR",
        "CHATKIT_MAX_OUTPUT_TOKENS",
    ):
        assert DEFAULTS[name] > 0, name
