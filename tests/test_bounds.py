"""Bounded inputs and JSON errors on ``POST /chatkit``, through the real ASGI application.

Sizes are checked before anything is stored (chat.protocol.check_bounds) and
answered with 400 naming the field; every error answer is JSON whatever the
body's content type (chat.middleware). Generated odd requests (hypothesis)
never get a 500.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from chat import models
from tests.helpers import CSRF_TOKEN, ChatKitClient, user_input

pytestmark = pytest.mark.django_db(transaction=True)


def assert_json_error(response, status: int, code: str | None = None, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.text[:200]
    error = response.json()["error"]
    assert error["message"]
    if code:
        assert error["code"] == code, error
    if field:
        assert error["field"] == field and field in error["message"], error
    return error


# --- page sizes ---------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [0, -1, 101, 2**63 - 1, 10**23])
async def test_limits_out_of_bounds_are_refused(client, limit):
    thread_id, _ = await client.new_thread("hello")
    for request in (
        {"type": "threads.list", "params": {"limit": limit}},
        {"type": "items.list", "params": {"thread_id": thread_id, "limit": limit}},
    ):
        assert_json_error(await client.post(request), 400, "invalid_limit", "params.limit")


async def test_limits_in_bounds_are_served(client, settings):
    thread_id, _ = await client.new_thread("hello")
    assert len((await client.json("threads.list", limit=settings.CHATKIT_MAX_PAGE_SIZE))["data"]) == 1
    assert len((await client.json("items.list", thread_id=thread_id, limit=1))["data"]) == 1
    assert (await client.json("threads.list"))["data"]  # no limit: the SDK's default page
    settings.CHATKIT_MAX_PAGE_SIZE = 5
    assert_json_error(await client.request("threads.list", limit=6), 400, "invalid_limit", "params.limit")


# --- messages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content", [[], [{"type": "input_text", "text": ""}], [{"type": "input_text", "text": " \n\t "}]]
)
async def test_an_empty_message_is_refused_and_nothing_is_stored(client, content):
    message = {"content": content, "attachments": [], "inference_options": {}}
    assert_json_error(
        await client.request("threads.create", input=message), 400, "empty_message", "params.input.content"
    )
    assert not await models.Thread.objects.aexists()

    thread_id, _ = await client.new_thread("hello")
    assert_json_error(
        await client.request("threads.add_user_message", thread_id=thread_id, input=message),
        400,
        "empty_message",
        "params.input.content",
    )
    assert await models.Item.objects.filter(thread_id=thread_id).acount() == 2
    assert await models.Thread.objects.filter(id=thread_id, turn_id__isnull=True).aexists()


async def test_a_message_over_the_cap_is_refused(client, settings):
    settings.CHATKIT_MAX_MESSAGE_CHARS = 50
    error = assert_json_error(
        await client.request("threads.create", input=user_input("x" * 51)),
        400,
        "message_too_long",
        "params.input.content",
    )
    assert "50" in error["message"]
    assert not await models.Thread.objects.aexists()
    thread_id, _ = await client.new_thread("y" * 50)
    assert await models.Thread.objects.filter(id=thread_id).aexists()


# --- titles ------------------------------------------------------------------------------------


async def test_a_long_title_is_refused_and_the_stored_one_kept(client, settings):
    thread_id, _ = await client.new_thread("hello")
    assert_json_error(
        await client.request("threads.update", thread_id=thread_id, title="t" * 100_000),
        400,
        "title_too_long",
        "params.title",
    )
    [listed] = (await client.json("threads.list"))["data"]
    assert listed["title"] == "hello"

    longest = "t" * settings.CHATKIT_MAX_TITLE_CHARS
    assert (await client.json("threads.update", thread_id=thread_id, title=longest))["title"] == longest
    row = await models.Thread.objects.aget(id=thread_id)
    assert row.title == longest and row.data["title"] == longest


# --- action payloads -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action, code",
    [
        ({"type": "chat.reply", "payload": "a string"}, "invalid_action_payload"),
        ({"type": "chat.reply", "payload": {"text": ""}}, "invalid_action_payload"),
        ({"type": "chat.reply", "payload": {"text": 5}}, "invalid_action_payload"),
        ({"type": "chat.reply", "payload": [1, 2]}, "invalid_action_payload"),
        ("chat.reply", "invalid_request"),
        ({"type": "no.such.action"}, "unknown_action"),
    ],
)
async def test_odd_action_payloads_are_refused_before_streaming(client, action, code):
    thread_id, _ = await client.new_thread("hello")
    for kind in ("threads.custom_action", "threads.sync_custom_action"):
        if kind == "threads.sync_custom_action" and code == "invalid_action_payload":
            continue  # chat.reply is a streaming action only
        error = assert_json_error(await client.request(kind, thread_id=thread_id, action=action), 400)
        assert error["code"] in (code, "unknown_action")
        if code == "invalid_action_payload":
            assert "params.action.payload" in error["message"]
    assert await models.Item.objects.filter(thread_id=thread_id).acount() == 2
    assert await models.Thread.objects.filter(id=thread_id, turn_id__isnull=True).aexists()


# --- JSON errors whatever was sent -----------------------------------------------------------------


async def test_form_and_multipart_bodies_get_json_errors(client, settings):
    body = json.dumps({"type": "threads.list", "params": {}})
    cases = [
        ("application/x-www-form-urlencoded", "a=1&b=2"),
        ("multipart/form-data", "--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--x--"),  # no boundary
        ("multipart/form-data; boundary=x", "--x\r\nbroken"),
        ("application/x-www-form-urlencoded", "&".join(f"f{i}=1" for i in range(5000))),
    ]
    for content_type, content in cases:
        response = await client.post(content, headers={"Content-Type": content_type})
        assert_json_error(response, 415, "unsupported_media_type")
    # A form body over the limit is refused earlier still, from its length (chat/asgi.py): JSON too.
    too_big = "a=" + "x" * (settings.CHATKIT_MAX_REQUEST_BYTES + 10)
    response = await client.post(too_big, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_json_error(response, 413, "request_too_large")
    # JSON is JSON whatever the header says.
    response = await client.post(body, headers={"Content-Type": "text/plain"})
    assert response.status_code == 200 and response.json()["data"] == []


async def test_every_failure_answers_json(client, settings):
    assert_json_error(await client.post("{not json"), 400, "invalid_request")
    assert_json_error(await client.post(b"\xff\xfe"), 400)
    assert_json_error(await client.post("x" * (settings.CHATKIT_MAX_REQUEST_BYTES + 1)), 413, "request_too_large")
    assert_json_error(await client.http.get("/chatkit"), 405)
    assert_json_error(await client.post({"type": "threads.list", "params": {}}, csrf=False), 403, "csrf_failed")
    settings.CHATKIT_OWNER = "tests.test_bounds.not_an_owner"  # the view crashes: a 500, still JSON
    assert_json_error(await client.request("threads.list"), 500, "internal_server_error")


def not_an_owner(request):
    """A broken ``CHATKIT_OWNER`` (it must return a RequestContext)."""
    return "nobody"


# --- generated odd requests ---------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
REQUEST_TYPES = [
    "threads.create",
    "threads.add_user_message",
    "threads.add_client_tool_output",
    "threads.retry_after_item",
    "threads.custom_action",
    "threads.sync_custom_action",
    "threads.list",
    "items.list",
    "threads.update",
    "threads.get_by_id",
    "threads.delete",
    "items.feedback",
    "attachments.delete",
    "nonsense",
]
FIELDS = ["thread_id", "item_id", "input", "limit", "after", "order", "title", "action", "result", "kind", "item_ids"]


@st.composite
def odd_requests(draw, thread_id: str, item_id: str):
    params = draw(st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=4))
    if draw(st.booleans()):
        params["thread_id"] = thread_id
    if draw(st.booleans()):
        params["item_id"] = item_id
    if draw(st.booleans()):
        params["input"] = {
            "content": draw(
                st.lists(
                    st.fixed_dictionaries({"type": st.just("input_text"), "text": st.text(max_size=30)}), max_size=2
                )
            ),
            "attachments": [],
            "inference_options": {},
        }
    return {"type": draw(st.sampled_from(REQUEST_TYPES)), "params": params}


def test_generated_odd_requests_never_get_a_500(transactional_db):
    from chatproject.asgi import application

    async def session():
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://testserver")
        http.cookies.set("csrftoken", CSRF_TOKEN, domain="testserver.local")
        client = ChatKitClient(http)
        thread_id, events = await client.new_thread("hello")
        return client, thread_id, events[1]["item"]["id"]

    loop = asyncio.new_event_loop()
    try:
        client, thread_id, item_id = loop.run_until_complete(session())

        @hypothesis_settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
        @given(request=odd_requests(thread_id, item_id))
        def check(request):
            response = loop.run_until_complete(client.post(request))
            assert response.status_code in (200, 400, 404, 409), (request, response.status_code, response.text[:300])
            if response.status_code != 200:
                assert response.headers["content-type"].startswith("application/json")
                assert response.json()["error"]["message"]
            else:
                assert response.headers["content-type"].split(";")[0] in ("application/json", "text/event-stream")

        check()
    finally:
        loop.close()
