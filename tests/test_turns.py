"""One turn at a time in a thread (chat.turns), raced through the real ASGI application.

Each race of issue 9 is here: many turns at once on one thread, racing
retries, racing client tool outputs, a delete while the model is still
silent, and the answer that is cut short (timeout, model error). Only the
language model is replaced: the echo model (slowed with a per-word delay)
or ``agents.testing.ScriptedModel`` (scripted waits and streams). The tests
use nothing database-specific, so they run on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from agents.testing import ModelStep, function_call
from django.utils import timezone

from chat import models
from chat.llm.echo import EchoModel
from chat.threads import CUT_OFF_MARK
from tests.helpers import assistant_text, sse_events, user_input
from tests.test_protocol import reply

pytestmark = pytest.mark.django_db(transaction=True)


async def stored(thread_id: str) -> list[tuple[str, str]]:
    return [(i.type, i.text) async for i in models.Item.objects.filter(thread_id=thread_id).order_by("seq")]


async def claim_of(thread_id: str):
    return await models.Thread.objects.filter(id=thread_id).values_list("turn_id", flat=True).afirst()


def assert_busy(response) -> None:
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == "thread_busy" and "still answering" in error["message"]


def words(n: int, tag: str) -> str:
    return " ".join(f"{tag}w{j}" for j in range(n))


async def wait_for(predicate, timeout: float = 10.0) -> None:
    """Poll an async predicate until it holds (raises ``AssertionError`` after ``timeout`` seconds)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)


def echo_stream(text: str, *, then=None, delay: float = 0.0):
    """A ``ModelStep.stream`` factory: the echo model's events for ``text`` up to its last delta, then ``then()``.

    ``then`` is an async function that never returns (a model gone silent) or raises (a model error).
    """

    async def events(call):
        async for event in EchoModel(delay=delay).stream_response(None, text, None, [], None, [], None):
            if event.type == "response.output_text.done":
                await then()
            yield event

    return ModelStep.stream(events)


# --- racing turns -----------------------------------------------------------------


async def test_twenty_racing_turns_each_answer_their_own_message(client, use_model):
    use_model(EchoModel(delay=0.05))  # a turn takes over half a second: the 20 overlap
    thread_id, _ = await client.new_thread("start")
    texts = [f"message {i} " + words(12, f"m{i}") for i in range(20)]

    responses = await asyncio.gather(
        *(client.request("threads.add_user_message", thread_id=thread_id, input=user_input(t)) for t in texts)
    )

    answered = [(text, r) for text, r in zip(texts, responses) if r.status_code == 200]
    refused = [r for r in responses if r.status_code != 200]
    assert answered and refused, [r.status_code for r in responses]
    for response in refused:
        assert_busy(response)
    for text, response in answered:
        events = sse_events(response.text)
        asked = [e["item"] for e in events if e["type"] == "thread.item.done" and e["item"]["type"] == "user_message"]
        assert [part["text"] for part in asked[0]["content"]] == [text]
        assert assistant_text(events) == text  # its own message, never another stream's
    # The thread holds each answered turn whole, in order; a refused turn left nothing.
    rows = (await stored(thread_id))[2:]
    assert len(rows) == 2 * len(answered)
    for (ask_type, ask), (answer_type, answer) in zip(rows[::2], rows[1::2]):
        assert (ask_type, answer_type) == ("user_message", "assistant_message") and ask == answer
    assert await claim_of(thread_id) is None  # released: the next turn runs
    events = await client.stream("threads.add_user_message", thread_id=thread_id, input=user_input("after"))
    assert assistant_text(events) == "after"


async def test_a_live_claim_refuses_and_a_stale_one_is_taken_over(client, settings):
    thread_id, _ = await client.new_thread("start")
    await models.Thread.objects.filter(id=thread_id).aupdate(turn_id="x" * 32, turn_heartbeat_at=timezone.now())
    for request in (
        {"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input("hi")}},
        {"type": "threads.add_client_tool_output", "params": {"thread_id": thread_id, "result": {}}},
        {
            "type": "threads.custom_action",
            "params": {"thread_id": thread_id, "action": {"type": "chat.reply", "payload": {"text": "x"}}},
        },
    ):
        assert_busy(await client.post(request))
    # Reading the thread, listing it, renaming it are never refused.
    assert (await client.json("threads.get_by_id", thread_id=thread_id))["id"] == thread_id
    await client.json("threads.update", thread_id=thread_id, title="renamed")

    # A process that died left its claim: once its heartbeat is stale, the next turn takes over.
    stale = timezone.now() - timedelta(seconds=settings.CHATKIT_TURN_STALE_SECONDS + 1)
    await models.Thread.objects.filter(id=thread_id).aupdate(turn_heartbeat_at=stale)
    events = await client.stream("threads.add_user_message", thread_id=thread_id, input=user_input("hi"))
    assert assistant_text(events) == "hi"
    assert await claim_of(thread_id) is None


async def test_a_refused_check_releases_the_claim(client):
    thread_id, _ = await client.new_thread("start")
    response = await client.request("threads.retry_after_item", thread_id=thread_id, item_id="msg_missing")
    assert response.status_code == 404
    response = await client.request("threads.add_client_tool_output", thread_id=thread_id, result={})
    assert response.status_code == 400 and response.json()["error"]["code"] == "no_pending_tool_call"
    assert await claim_of(thread_id) is None


async def test_a_new_thread_is_claimed_until_its_first_answer_ends(client, scripted):
    entered, leave = asyncio.Event(), asyncio.Event()

    async def slow(call):
        entered.set()
        await leave.wait()
        return reply("first answer")

    scripted.enqueue(ModelStep.respond(slow))
    await client.json("threads.list")  # the session (the owner) exists before the racing requests
    creating = asyncio.create_task(client.new_thread("first question"))
    await asyncio.wait_for(entered.wait(), 10)
    thread_id = await models.Thread.objects.values_list("id", flat=True).aget()
    assert await claim_of(thread_id) is not None
    assert_busy(await client.request("threads.add_user_message", thread_id=thread_id, input=user_input("too soon")))
    leave.set()
    _, events = await creating
    assert assistant_text(events) == "first answer"
    assert await stored(thread_id) == [("user_message", "first question"), ("assistant_message", "first answer")]
    assert await claim_of(thread_id) is None


# --- retries ------------------------------------------------------------------------


async def first_user_message(thread_id: str) -> str:
    return (
        await models.Item.objects.filter(thread_id=thread_id, type="user_message").values_list("id", flat=True).afirst()
    )


async def test_racing_retries_leave_exactly_one_answer(client, use_model):
    use_model(EchoModel(delay=0.02))
    text = words(15, "r")
    thread_id, _ = await client.new_thread(text)
    message_id = await first_user_message(thread_id)

    responses = await asyncio.gather(
        *(client.request("threads.retry_after_item", thread_id=thread_id, item_id=message_id) for _ in range(5))
    )

    answered = [r for r in responses if r.status_code == 200]
    assert len(answered) >= 1
    for response in responses:
        if response.status_code != 200:
            assert_busy(response)
    for response in answered:
        assert assistant_text(sse_events(response.text)) == text
    assert await stored(thread_id) == [("user_message", text), ("assistant_message", text)]


async def test_a_retry_during_a_retry_is_refused_and_one_answer_stays(client, use_model):
    use_model(EchoModel(delay=0.1))  # a 10-word answer takes a second
    text = words(10, "s")
    thread_id, _ = await client.new_thread(text)
    message_id = await first_user_message(thread_id)

    first = asyncio.create_task(client.request("threads.retry_after_item", thread_id=thread_id, item_id=message_id))
    await asyncio.sleep(0.6)
    assert_busy(await client.request("threads.retry_after_item", thread_id=thread_id, item_id=message_id))
    assert (await first).status_code == 200
    # Once it is done, a retry runs again, and still one answer stays.
    events = await client.stream("threads.retry_after_item", thread_id=thread_id, item_id=message_id)
    assert assistant_text(events) == text
    assert await stored(thread_id) == [("user_message", text), ("assistant_message", text)]


async def test_retry_keeps_the_old_answer_until_the_new_one_starts(client, scripted):
    scripted.enqueue(reply("old answer"))
    thread_id, _ = await client.new_thread("question")
    message_id = await first_user_message(thread_id)
    entered, leave = asyncio.Event(), asyncio.Event()

    async def slow(call):
        entered.set()
        await leave.wait()
        return reply("new answer")

    scripted.enqueue(ModelStep.respond(slow))
    retrying = asyncio.create_task(client.stream("threads.retry_after_item", thread_id=thread_id, item_id=message_id))
    await asyncio.wait_for(entered.wait(), 10)
    # The model is thinking: the old answer is still stored, but it is not the model's history.
    assert await stored(thread_id) == [("user_message", "question"), ("assistant_message", "old answer")]
    assert "old answer" not in str(scripted.last_call.input)
    leave.set()
    assert assistant_text(await retrying) == "new answer"
    assert await stored(thread_id) == [("user_message", "question"), ("assistant_message", "new answer")]


async def test_a_retry_whose_model_fails_keeps_the_old_answer(client, scripted):
    scripted.enqueue(reply("old answer"))
    thread_id, _ = await client.new_thread("question")
    message_id = await first_user_message(thread_id)
    scripted.enqueue(RuntimeError("the model is down"))
    events = await client.stream("threads.retry_after_item", thread_id=thread_id, item_id=message_id)
    assert [e["type"] for e in events].count("error") == 1
    assert await stored(thread_id) == [("user_message", "question"), ("assistant_message", "old answer")]


# --- client tool outputs -----------------------------------------------------------------


async def test_racing_client_tool_outputs_one_wins(client, scripted):
    scripted.enqueue([function_call("switch_theme", {"theme": "dark"}, call_id="call_theme")])
    thread_id, _ = await client.new_thread("Switch to dark mode")

    async def slow(call):
        await asyncio.sleep(0.5)
        return reply("Done.")

    scripted.enqueue(ModelStep.respond(slow))
    results = [{"theme": "dark", "client": 1}, {"theme": "dark", "client": 2}]
    responses = await asyncio.gather(
        *(client.request("threads.add_client_tool_output", thread_id=thread_id, result=r) for r in results)
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses[0] == 200 and statuses[1] in (400, 409), statuses
    winner = results[[r.status_code for r in responses].index(200)]
    loser = responses[[r.status_code for r in responses].index(statuses[1])]
    assert loser.json()["error"]["code"] in ("thread_busy", "no_pending_tool_call")
    call = await models.Item.objects.aget(thread_id=thread_id, type="client_tool_call")
    assert call.data["output"] == winner and call.data["status"] == "completed"
    assert [kind for kind, _ in await stored(thread_id)].count("assistant_message") == 1
    assert scripted.remaining_steps == 0


# --- deleting a thread while its turn runs --------------------------------------------------


@pytest.mark.parametrize("start", ["threads.create", "threads.add_user_message"])
async def test_delete_during_a_slow_first_token_wins(client, scripted, start):
    thread_id = None
    if start == "threads.add_user_message":
        scripted.enqueue(reply("first answer"))
        thread_id, _ = await client.new_thread("first question")
    entered, leave = asyncio.Event(), asyncio.Event()

    async def slow(call):
        entered.set()
        await leave.wait()
        return reply("an answer nobody will see")

    scripted.enqueue(ModelStep.respond(slow))
    await client.json("threads.list")  # the session (the owner) exists before the racing requests
    if start == "threads.create":
        turn = asyncio.create_task(client.request("threads.create", input=user_input("a question")))
    else:
        turn = asyncio.create_task(
            client.request("threads.add_user_message", thread_id=thread_id, input=user_input("a question"))
        )
    await asyncio.wait_for(entered.wait(), 10)
    thread_id = thread_id or await models.Thread.objects.values_list("id", flat=True).aget()
    assert await client.json("threads.delete", thread_id=thread_id) == {}
    leave.set()

    response = await turn
    assert response.status_code == 200
    assert [e["type"] for e in sse_events(response.text) if e["type"] == "error"] == []  # it ended quietly
    assert not await models.Thread.objects.filter(id=thread_id).aexists()
    assert not await models.Item.objects.filter(thread_id=thread_id).aexists()
    assert (await client.json("threads.list"))["data"] == []


# --- answers cut short ------------------------------------------------------------------------


async def test_a_model_timeout_mid_answer_saves_what_was_streamed(client, scripted, settings):
    settings.CHATKIT_MODEL_TIMEOUT = 0.3
    scripted.enqueue(echo_stream("the words so far", then=lambda: asyncio.sleep(3600)))
    thread_id, events = await client.new_thread("a question")

    [error] = [e for e in events if e["type"] == "error"]
    assert "did not answer within" in error["message"]
    assert await stored(thread_id) == [
        ("user_message", "a question"),
        ("assistant_message", "the words so far" + CUT_OFF_MARK),
    ]
    assert await claim_of(thread_id) is None
    scripted.enqueue(reply("a second answer"))
    events = await client.stream("threads.add_user_message", thread_id=thread_id, input=user_input("again"))
    assert assistant_text(events) == "a second answer"


async def test_a_model_error_mid_answer_saves_what_was_streamed(client, scripted):
    async def fail():
        await asyncio.sleep(0.2)  # what was streamed has reached the client
        raise RuntimeError("connection reset by the model server")

    scripted.enqueue(echo_stream("half an answer", then=fail, delay=0.02))
    thread_id, events = await client.new_thread("a question")
    assert [e["type"] for e in events].count("error") == 1
    assert await stored(thread_id) == [
        ("user_message", "a question"),
        ("assistant_message", "half an answer" + CUT_OFF_MARK),
    ]


async def test_heartbeats_save_the_answer_as_it_grows(client, use_model, settings):
    settings.CHATKIT_TURN_HEARTBEAT_SECONDS = 0.1
    use_model(EchoModel(delay=0.05))
    text = words(30, "h")  # 1.5 s of answer
    creating = asyncio.create_task(client.new_thread(text))

    async def partial_saved():
        row = (
            await models.Item.objects.filter(type="assistant_message")
            .values_list("text", "thread__turn_heartbeat_at")
            .afirst()
        )
        return row is not None and row[0].endswith(CUT_OFF_MARK) and row[1] is not None

    await wait_for(partial_saved)
    partial = await models.Item.objects.filter(type="assistant_message").values_list("text", flat=True).aget()
    assert text.startswith(partial.removesuffix(CUT_OFF_MARK))
    thread_id, events = await creating
    assert assistant_text(events) == text
    assert await stored(thread_id) == [("user_message", text), ("assistant_message", text)]  # the mark is gone
    assert await claim_of(thread_id) is None


async def test_a_stream_that_never_ran_releases_its_claim_on_close(client):
    """A client gone before the first byte: Django still closes the response, and the claim goes."""
    from asgiref.sync import sync_to_async

    from chat.context import RequestContext
    from chat.views import TurnStreamingResponse

    thread_id, _ = await client.new_thread("start")
    owner = await models.Thread.objects.values_list("owner", flat=True).aget(id=thread_id)
    context = RequestContext(owner=owner)
    context.turn.id, context.turn.thread_id = "c" * 32, thread_id
    await models.Thread.objects.filter(id=thread_id).aupdate(turn_id="c" * 32, turn_heartbeat_at=timezone.now())

    async def never_iterated():
        yield b""

    response = TurnStreamingResponse(never_iterated(), None, context, content_type="text/event-stream")
    await sync_to_async(response.close)()
    assert await claim_of(thread_id) is None


async def test_the_heartbeats_of_many_turns_are_written_together(make_client, use_model, settings, monkeypatch):
    """40 streams at once: each beat saves its slice's answers so far in one hop per worker thread, not one per turn.

    The turns are dealt into ``turns.SLICES`` slices beaten in turn, so no beat
    writes more than its share (issue 15: one burst for all stalled every stream).
    """
    from chat import turns

    settings.CHATKIT_TURN_HEARTBEAT_SECONDS = 0.1
    use_model(EchoModel(delay=0.05))
    batches: list[int] = []
    real = turns.beat_all

    def counting(entries):
        batches.append(len(entries))
        return real(entries)

    monkeypatch.setattr(turns, "beat_all", counting)
    monkeypatch.setattr(turns, "SLICES", 4)  # 10 turns a slice on 8 worker threads: some must share one
    texts = [words(24, f"t{i}") for i in range(40)]
    results = await asyncio.gather(*(make_client().new_thread(text) for text in texts))

    assert max(batches) > 1, batches  # turns of one slice on one worker thread share a beat
    assert len(batches) < sum(batches), batches
    assert max(batches) <= -(-len(texts) // turns.SLICES), batches  # a beat writes one slice, not every turn
    for text, (thread_id, events) in zip(texts, results):
        assert assistant_text(events) == text
        assert await stored(thread_id) == [("user_message", text), ("assistant_message", text)]  # no mark left
        assert await claim_of(thread_id) is None


async def test_a_new_message_is_saved_with_its_claim_or_not_at_all(client, use_model, settings):
    """The user message is saved right after the claim: a stream refused after the claim leaves neither."""
    from tests.test_limits import assert_rate_limited

    settings.CHATKIT_CONCURRENT_STREAMS = 1
    use_model(EchoModel(delay=0.05))
    quiet_thread, _ = await client.new_thread("first")
    busy = asyncio.create_task(client.new_thread(words(30, "b")))
    await wait_for(lambda: models.Thread.objects.exclude(id=quiet_thread).filter(turn_id__isnull=False).aexists())

    refused = await client.request("threads.add_user_message", thread_id=quiet_thread, input=user_input("second"))
    assert_rate_limited(refused, "at most 1 at a time")
    assert await stored(quiet_thread) == [("user_message", "first"), ("assistant_message", "first")]
    assert await claim_of(quiet_thread) is None
    await busy

    events = await client.stream("threads.add_user_message", thread_id=quiet_thread, input=user_input("third"))
    assert events[0]["type"] == "thread.item.done" and events[0]["item"]["type"] == "user_message"
    assert await stored(quiet_thread) == [
        ("user_message", "first"),
        ("assistant_message", "first"),
        ("user_message", "third"),
        ("assistant_message", "third"),
    ]


async def test_the_response_ends_only_once_its_turn_is_released(monkeypatch):
    """A turn that ends normally is released by the response's close(); the response's end waits for it.

    Django's ASGI handler sends a stream's last (empty) body message and only
    then runs ``close()``; ``chat.workers`` holds that message until
    ``close()`` is done. A release made slow here shows the order: without the
    hold, the end would come first, and the client could send its next
    message into a thread that is still claimed.
    """
    import time

    import httpx

    from chat import turns
    from chatproject.asgi import application
    from tests.helpers import CSRF_TOKEN, ChatKitClient

    order: list[str] = []
    real = turns.release_now

    def slow_release(context) -> None:
        time.sleep(0.2)  # on the request's worker thread, inside close()
        real(context)
        order.append("released")

    async def recording(scope, receive, send):
        async def recorded(message):
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                order.append("end")
            await send(message)

        await application(scope, receive, recorded)

    monkeypatch.setattr(turns, "release_now", slow_release)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=recording), base_url="http://testserver") as http:
        http.cookies.set("csrftoken", CSRF_TOKEN, domain="testserver.local")
        client = ChatKitClient(http)
        thread_id, _ = await client.new_thread("hello")
        assert order == ["released", "end"]
        order.clear()
        events = await client.stream("threads.add_user_message", thread_id=thread_id, input=user_input("again"))
    assert assistant_text(events) == "again"
    assert order == ["released", "end"]
    assert await claim_of(thread_id) is None
