"""Live threads over the real ASGI app: the owner's other connections see a turn as it is written.

The WebSocket runs through ``chatproject.asgi`` (Channels' router, session and
auth middleware, origin check) with Channels' ``WebsocketCommunicator``; the
turns go through ``POST /chatkit`` as usual. Another owner's socket is refused
and gets nothing.
"""

from __future__ import annotations

import json

import pytest
from channels.testing import WebsocketCommunicator

from chat.live import RELAYED
from tests.helpers import user_input

pytestmark = pytest.mark.django_db(transaction=True)


async def socket_of(client) -> WebsocketCommunicator:
    """A connected live socket with ``client``'s cookies (so the same owner)."""
    from chatproject.asgi import application

    await client.http.get("/")  # the page mints the anonymous owner into the session
    cookie = "; ".join(f"{name}={value}" for name, value in client.http.cookies.items())
    communicator = WebsocketCommunicator(
        application, "/chatkit/live", headers=[(b"cookie", cookie.encode()), (b"origin", b"http://testserver")]
    )
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def drain(communicator, until: str = "thread.item.done", role: str = "assistant_message") -> list[dict]:
    """Events received until the ``until`` event of a ``role`` item."""
    events = []
    while True:
        message = await communicator.receive_json_from(timeout=5)
        assert message["type"] == "event", message
        events.append(message["event"])
        event = message["event"]
        if event["type"] == until and event.get("item", {}).get("type") == role:
            return events


async def test_the_owners_other_socket_sees_the_turn_and_another_owner_nothing(make_client):
    alice, mallory = make_client(), make_client()
    alice_socket, mallory_socket = await socket_of(alice), await socket_of(mallory)
    thread_id, _ = await alice.new_thread("first")

    await alice_socket.send_json_to({"type": "subscribe", "thread_id": thread_id})
    assert await alice_socket.receive_json_from(timeout=5) == {"type": "subscribed", "thread_id": thread_id}
    await mallory_socket.send_json_to({"type": "subscribe", "thread_id": thread_id})
    refused = await mallory_socket.receive_json_from(timeout=5)
    assert refused["type"] == "error" and refused["error"]["code"] == "not_found"

    streamed = await alice.stream(
        "threads.add_user_message", thread_id=thread_id, input=user_input("watch this answer")
    )
    watched = await drain(alice_socket)
    assert watched == [e for e in streamed if e["type"] in RELAYED]
    kinds = [e["type"] for e in watched]
    assert watched[0]["type"] == "thread.item.done" and watched[0]["item"]["type"] == "user_message"
    assert "thread.item.added" in kinds and "thread.item.updated" in kinds  # the answer streams in
    assert watched[-1]["item"]["content"][0]["text"].startswith("watch this answer")
    assert await mallory_socket.receive_nothing(timeout=0.3)

    await alice_socket.disconnect()
    await mallory_socket.disconnect()


async def test_switching_threads_stops_the_old_ones_events(make_client):
    alice = make_client()
    socket = await socket_of(alice)
    first, _ = await alice.new_thread("one")
    second, _ = await alice.new_thread("two")
    await socket.send_json_to({"type": "subscribe", "thread_id": first})
    await socket.receive_json_from(timeout=5)
    await socket.send_json_to({"type": "subscribe", "thread_id": second})
    assert (await socket.receive_json_from(timeout=5))["thread_id"] == second

    await alice.stream("threads.add_user_message", thread_id=first, input=user_input("not watched"))
    assert await socket.receive_nothing(timeout=0.3)
    await alice.stream("threads.add_user_message", thread_id=second, input=user_input("watched"))
    assert (await drain(socket))[-1]["item"]["thread_id"] == second
    await socket.send_json_to({"type": "unsubscribe"})
    await alice.stream("threads.add_user_message", thread_id=second, input=user_input("no longer"))
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_events_that_pile_up_leave_together_in_order_and_unwatched_ones_not_at_all():
    """chat.live.publish queues; one task per thread sends what piled up as one group message (issue 15)."""
    from channels.layers import InMemoryChannelLayer, get_channel_layer

    from chat import live

    layer = get_channel_layer()
    watcher = await layer.new_channel()
    await layer.group_add(live.group_name("thr_watched"), watcher)
    for n in range(5):  # no await in between: all queued before the relay's task first runs
        live.publish("thr_watched", json.dumps({"n": n}))
    live.publish("thr_unwatched", json.dumps({"n": 0}))
    if isinstance(layer, InMemoryChannelLayer):  # it knows nobody watches; Redis's members may be in other processes
        assert "thr_unwatched" not in {thread for _, thread in live._relays}, "nobody watches: nothing to send"
    await live.flushed()
    message = await layer.receive(watcher)
    assert message["type"] == live.MESSAGE_TYPE and message["thread_id"] == "thr_watched"
    assert [json.loads(e)["n"] for e in message["events"]] == [0, 1, 2, 3, 4]
    live.publish("thr_watched", json.dumps({"n": 5}))
    await live.flushed()
    assert [json.loads(e)["n"] for e in (await layer.receive(watcher))["events"]] == [5]
    assert live._relays == {}, "a relay with nothing left to send goes away"
    await layer.group_discard(live.group_name("thr_watched"), watcher)


async def test_a_failing_channel_layer_does_not_break_the_turn(make_client, monkeypatch, caplog):
    from channels.layers import get_channel_layer

    from chat import live

    alice = make_client()
    socket = await socket_of(alice)
    thread_id, _ = await alice.new_thread("first")
    await socket.send_json_to({"type": "subscribe", "thread_id": thread_id})
    await socket.receive_json_from(timeout=5)

    async def down(*args, **kwargs):
        raise ConnectionError("the channel layer is down")

    monkeypatch.setattr(get_channel_layer(), "group_send", down)
    events = await alice.stream("threads.add_user_message", thread_id=thread_id, input=user_input("still answered"))
    await live.flushed()
    assert events[-1]["type"] == "thread.item.done" and events[-1]["item"]["type"] == "assistant_message"
    assert "Could not publish live events" in caplog.text
    await socket.disconnect()


async def test_a_socket_without_an_owner_mints_none(make_client, settings):
    """Subscribing without an owner cookie is "not found" and uses none of the address's new-owner allowance."""
    from chatproject.asgi import application

    settings.CHATKIT_NEW_OWNERS_PER_HOUR = 1
    alice = make_client()
    thread_id, _ = await alice.new_thread("mine")  # alice's owner: the address's one new owner this hour
    for _ in range(3):
        stranger = WebsocketCommunicator(application, "/chatkit/live", headers=[(b"origin", b"http://testserver")])
        assert (await stranger.connect())[0]
        await stranger.send_json_to({"type": "subscribe", "thread_id": thread_id})
        answer = await stranger.receive_json_from(timeout=5)
        assert answer["type"] == "error" and answer["error"]["code"] == "not_found"
        await stranger.disconnect()
    watcher = await socket_of(alice)  # the owner's own socket still works
    await watcher.send_json_to({"type": "subscribe", "thread_id": thread_id})
    assert await watcher.receive_json_from(timeout=5) == {"type": "subscribed", "thread_id": thread_id}
    await watcher.disconnect()


async def test_bad_messages_get_a_json_error(make_client):
    socket = await socket_of(make_client())
    for bad in (
        "not json",
        '{"type": "dance"}',
        '{"type": "subscribe"}',
        '{"type": "subscribe", "thread_id": "thr_nope"}',
    ):
        await socket.send_to(text_data=bad)
        answer = await socket.receive_json_from(timeout=5)
        assert answer["type"] == "error" and answer["error"]["code"] in ("bad_request", "not_found"), bad
    await socket.disconnect()


async def test_another_sites_page_cannot_open_the_socket(client):
    from chatproject.asgi import application

    communicator = WebsocketCommunicator(application, "/chatkit/live", headers=[(b"origin", b"https://evil.example")])
    connected, _ = await communicator.connect()
    assert not connected


def test_runserver_serves_the_live_socket(tmp_path):
    # `manage.py runserver` is daphne's (INSTALLED_APPS): it routes WebSockets through chatproject.asgi
    # too. (uvicorn's: the browser and scale-out tests.)
    import asyncio

    import httpx
    import websockets

    from tests.servers import live_server

    with live_server(tmp_path, server="runserver") as live:
        cookie = "; ".join(f"{k}={v}" for k, v in httpx.get(live.url + "/").cookies.items())

        async def ask() -> dict:
            async with websockets.connect(
                live.url.replace("http://", "ws://") + "/chatkit/live",
                additional_headers={"Cookie": cookie, "Origin": live.url},
            ) as socket:
                await socket.send('{"type": "subscribe", "thread_id": "thr_someone_elses"}')
                return json.loads(await socket.recv())

        answer = asyncio.run(ask())
    assert answer["type"] == "error" and answer["error"]["code"] == "not_found"
