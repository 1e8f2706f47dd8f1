"""The embedded local model answering through ``POST /chatkit`` (the real model, no stand-in).

Slower than the rest (a second or two per answer on 2 cores, more on a busy
machine); ``make test`` runs them.
"""

from __future__ import annotations

import pytest

from chat import models
from tests.helpers import assistant_text

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.local_model]


@pytest.fixture
def local_model(settings, monkeypatch):
    from chat.llm import get_model

    settings.CHATKIT_MODEL = "local"
    settings.CHATKIT_MODEL_TIMEOUT = 300
    # Greedy decoding: the same answer on every run, so the tool test can't flake.
    monkeypatch.setattr(get_model("local"), "temperature", 0.0)


async def test_local_model_streams_a_persisted_answer(client, local_model):
    thread_id, events = await client.new_thread("Say hello to Django in one short sentence.")
    deltas = [
        e
        for e in events
        if e["type"] == "thread.item.updated" and e["update"]["type"] == "assistant_message.content_part.text_delta"
    ]
    assert len(deltas) >= 2, [e["type"] for e in events]
    text = assistant_text(events)
    assert text.strip()
    stored = [i async for i in models.Item.objects.filter(thread_id=thread_id).order_by("seq")]
    assert [i.type for i in stored] == ["user_message", "assistant_message"]
    assert stored[1].text == text


async def test_local_model_runs_a_server_tool(client, local_model):
    _, events = await client.new_thread(
        "What time is it right now in the Europe/Paris time zone? Use the current_time tool."
    )
    progress = [e for e in events if e["type"] == "progress_update"]
    assert any("Checking the time" in e["text"] for e in progress), [e["type"] for e in events]
    assert assistant_text(events).strip()


async def test_a_message_too_long_for_the_context_is_refused_before_the_model_runs(client, local_model, settings):
    from chat.llm import get_model

    settings.CHATKIT_MAX_MESSAGE_CHARS = 50_000  # within the request bounds: the model's context is the limit here
    model = get_model("local")
    text = "The quick brown fox jumps over the lazy dog. " * 450  # ~20,000 characters
    thread_id, events = await client.new_thread(text)
    errors = [e for e in events if e["type"] == "error"]
    assert errors, [e["type"] for e in events]
    assert f"limit is {model.n_ctx - model.max_tokens:,} tokens" in errors[0]["message"]
    assert errors[0]["allow_retry"] is False
    assert not [e for e in events if e["type"] == "thread.item.added" and e["item"]["type"] == "assistant_message"]
    stored = [i async for i in models.Item.objects.filter(thread_id=thread_id).order_by("seq")]
    assert [i.type for i in stored] == ["user_message"] and stored[0].text == text
