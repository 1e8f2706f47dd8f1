"""EchoModel: a real Responses event stream the Agents Runner accepts."""

from __future__ import annotations

import pytest
from agents import Agent, ModelSettings, ModelTracing, Runner, set_tracing_disabled

from chat.llm.echo import EchoModel, latest_user_text

set_tracing_disabled(True)


async def _run(text: str, **model_kwargs) -> tuple[list[str], list[str], str]:
    agent = Agent(name="echo", instructions="-", model=EchoModel(**model_kwargs))
    result = Runner.run_streamed(agent, text)
    deltas: list[str] = []
    types: list[str] = []
    async for event in result.stream_events():
        if event.type == "raw_response_event":
            types.append(event.data.type)
            if event.data.type == "response.output_text.delta":
                deltas.append(event.data.delta)
    return deltas, types, result.final_output


async def test_streams_words_in_order_and_final_output_is_normalised_input():
    deltas, types, final = await _run("  hello   big\n world ")
    assert deltas == ["hello", " big", " world"]
    assert "".join(deltas) == final == "hello big world"
    assert types == [
        "response.created",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]


async def test_delay_per_word_is_applied():
    import time

    started = time.perf_counter()
    await _run("a b c", delay=0.02)
    assert time.perf_counter() - started >= 0.06


async def test_ids_are_unique_and_never_fake():
    model = EchoModel(delay=0)
    ids = set()
    for _ in range(2):
        async for event in model.stream_response(
            None, "hi there", ModelSettings(), [], None, [], ModelTracing.DISABLED
        ):
            if event.type == "response.completed":
                ids.add(event.response.output[0].id)
                ids.add(event.response.id)
    assert len(ids) == 4
    assert "__fake_id__" not in ids


async def test_get_response_and_latest_user_message_in_history():
    history = [
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": [{"type": "output_text", "text": "x", "annotations": []}]},
        {"role": "user", "content": [{"type": "input_text", "text": "second  one"}]},
    ]
    assert latest_user_text(history) == "second  one"
    result = await Runner.run(Agent(name="e", model=EchoModel(delay=0)), history)
    assert result.final_output == "second one"


@pytest.mark.parametrize("text", ["", "   "])
async def test_empty_input_gives_empty_answer(text):
    deltas, _, final = await _run(text)
    assert deltas == [] and final == ""
