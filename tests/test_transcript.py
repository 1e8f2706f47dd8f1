"""The admin's transcript shows what happened in a turn: tools, widgets, hidden items, cut-off answers.

Turns run through the real ASGI stack with a scripted model calling the
default agent's real tools; the server records its tool calls
(``chat.models.ServerToolCall``) and the admin draws them among the items.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from agents.testing import assistant_message, function_call
from asgiref.sync import async_to_sync, sync_to_async
from chatkit.types import AssistantMessageContent, AssistantMessageItem, HiddenContextItem, SDKHiddenContextItem
from django.urls import reverse

from chat import models
from chat.store import DjangoStore, new_id
from chat.transcript import render_markdown
from tests.factories import make_context, make_thread
from tests.helpers import user_input

pytestmark = pytest.mark.django_db(transaction=True)


def thread_page(admin_client, thread_id: str, **query) -> str:
    seq = models.Thread.objects.get(id=thread_id).seq
    return admin_client.get(reverse("admin:chat_thread_change", args=[seq]), query).content.decode()


async def test_server_tool_calls_and_widgets_are_recorded_and_drawn(client, scripted, admin_client):
    scripted.enqueue([function_call("current_time", {"timezone": "UTC"}, call_id="call_time")])
    scripted.enqueue(
        [
            function_call(
                "show_quick_replies", {"question": "Which city?", "options": ["Lisbon", "Porto"]}, call_id="call_qr"
            )
        ]
    )
    # The quick-reply widget ends the turn (StopAtTools, chat/agents.py): the next answer is the choice's.
    thread_id, _ = await client.new_thread("What time is it?")
    scripted.enqueue([assistant_message("It is **noon**; pick a city.", item_id=new_id("message"))])
    await client.stream("threads.add_user_message", thread_id=thread_id, input=user_input("Which time again?"))

    calls = await sync_to_async(list)(models.ServerToolCall.objects.filter(thread_id=thread_id).order_by("seq"))
    assert [(c.call_id, c.name) for c in calls] == [("call_time", "current_time"), ("call_qr", "show_quick_replies")]
    assert json.loads(calls[0].arguments) == {"timezone": "UTC"} and "UTC" in calls[0].output and calls[0].finished_at
    assert calls[1].output == "The options are shown to the user; wait for their choice."

    page = await sync_to_async(thread_page)(admin_client, thread_id)
    user_at = page.index("What time is it?")
    time_at = page.index("<code>current_time</code>")
    widget_at = page.index('class="ck-button" title="action chat.reply')
    answer_at = page.index("It is <strong>noon</strong>; pick a city.")
    assert user_at < time_at < widget_at < answer_at
    assert "&quot;timezone&quot;: &quot;UTC&quot;" in page  # the arguments, shown
    assert ">Lisbon</button>" in page and ">Porto</button>" in page  # the widget's buttons, drawn
    assert "answered by echo" in page  # the user message's inference_options.model (CHATKIT_MODEL here)


def test_hidden_context_and_cut_off_answers_are_marked(admin_client):
    store, ctx = DjangoStore(), make_context()
    thread = make_thread("hidden")
    now = datetime.now()

    async def write():
        await store.save_thread(thread, ctx)
        for item in (
            HiddenContextItem(
                id=new_id("message"), thread_id=thread.id, created_at=now, content="User is on the paid plan"
            ),
            AssistantMessageItem(
                id=new_id("message"),
                thread_id=thread.id,
                created_at=now,
                content=[AssistantMessageContent(text="The first half of an answ")],
            ),
            SDKHiddenContextItem(
                id=new_id("sdk_hidden_context"),
                thread_id=thread.id,
                created_at=now,
                content="The user cancelled the stream. Stop responding to the prior request.",
            ),
        ):
            await store.add_thread_item(thread.id, item, ctx)

    async_to_sync(write)()
    page = thread_page(admin_client, thread.id)
    assert page.count("hidden from the user</span>") == 2
    assert page.count('class="chat-line hidden-item"') == 2
    assert "User is on the paid plan" in page
    assert "cut off: the user stopped this answer" in page


def test_markdown_is_rendered_safely():
    html = render_markdown(
        "**bold** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)> ![t](http://t/p.png)"
        "\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    )
    assert "<strong>bold</strong>" in html and "<table>" in html
    assert "&lt;script&gt;" in html  # raw HTML is shown as text, never run
    assert "<script" not in html and 'href="javascript' not in html and "<img" not in html


def test_an_item_link_opens_the_page_that_holds_it(admin_client):
    store, ctx = DjangoStore(), make_context()
    thread = make_thread("long")
    messages = [
        AssistantMessageItem(
            id=new_id("message"),
            thread_id=thread.id,
            created_at=datetime.now(),
            content=[AssistantMessageContent(text=f"answer number {n}")],
        )
        for n in range(120)
    ]

    async def write():
        await store.save_thread(thread, ctx)
        for item in messages:
            await store.add_thread_item(thread.id, item, ctx)

    async_to_sync(write)()
    page = thread_page(admin_client, thread.id, item=messages[5].id)  # 115 newer items: page 3 of 3
    assert "Page 3 of 3" in page and f'id="item-{messages[5].id}"' in page and "answer number 119" not in page
