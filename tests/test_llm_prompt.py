"""The embedded model's prompt: tool turns and hidden context in the template's roles; fitting the context."""

from __future__ import annotations

import json
import threading
from datetime import datetime

import pytest
from agents import ModelSettings
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    InferenceOptions,
    SDKHiddenContextItem,
    UserMessageItem,
    UserMessageTextContent,
)

from chat.converter import CANCEL_CONTEXT, ChatConverter
from chat.llm.local import LocalModel
from chat.llm.prompt import (
    RECAP,
    ContextTooLong,
    current_turn,
    fit_messages,
    hidden_notes,
    recap_user_messages,
    template_messages,
)

TOOL_TURN = [
    {"role": "user", "content": "What time is it?"},
    {"type": "function_call", "call_id": "c1", "name": "current_time", "arguments": '{"timezone":"UTC"}'},
    {"type": "function_call_output", "call_id": "c1", "output": "Tuesday 01 December 2026, 09:30 (UTC)"},
]


def build(items, tools=(), model=None):
    model = model or LocalModel()
    return model.build_request("Be brief.", items, ModelSettings(max_tokens=16), list(tools), [])


def test_tool_calls_and_results_keep_the_templates_tool_roles():
    request, names = build(TOOL_TURN)
    roles = [m["role"] for m in request["messages"]]
    assert roles[:4] == ["system", "user", "assistant", "tool"]
    call = request["messages"][2]["tool_calls"][0]
    assert call["id"] == "c1" and call["function"] == {"name": "current_time", "arguments": '{"timezone":"UTC"}'}
    assert request["messages"][3] == {
        "role": "tool",
        "tool_call_id": "c1",
        "content": "Tuesday 01 December 2026, 09:30 (UTC)",
    }
    # Nothing is folded into the user's words any more.
    assert request["messages"][1]["content"] == "What time is it?"
    assert not any("returned:" in str(m.get("content")) for m in request["messages"])
    # After a result: no tools, and a system note asks for the answer.
    assert names == set() and "tools" not in request
    assert roles[-1] == "system"


def test_developer_messages_become_system_and_part_lists_become_strings():
    messages = template_messages(
        [
            {"role": "developer", "content": "note"},
            {
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Hel"}, {"type": "output_text", "text": "lo"}],
            },
        ]
    )
    assert messages == [{"role": "system", "content": "note"}, {"role": "assistant", "content": "Hello"}]


def test_the_answer_after_a_tool_result_sees_only_the_current_turn():
    # eval case time-weekday-history: with the whole thread it answered "Hello, how are you?" again.
    history = [
        {"role": "user", "content": "Hello, how are you?"},
        {"role": "assistant", "content": "I'm well, thanks!"},
        *TOOL_TURN,
    ]
    request, names = build(history)
    assert not names and "tools" not in request
    contents = [m.get("content") for m in request["messages"]]
    assert "Hello, how are you?" not in contents and "I'm well, thanks!" not in contents
    assert [m["role"] for m in request["messages"]] == ["system", "user", "assistant", "tool", "system"]
    assert request["messages"][1]["content"] == "What time is it?"


def test_the_users_earlier_messages_are_quoted_before_the_newest():
    # eval case memory-colour: with the model's "Green is my favorite color!" in between, the 0.5B
    # answered "Which colour do I like best?" with "I like blue" unless the user's words were quoted.
    history = [
        {"role": "user", "content": "My favourite colour is green."},
        {"role": "assistant", "content": "Green is my favorite color!"},
        {"role": "user", "content": "x" * 300},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "Which colour do I like best?"},
    ]
    request, _ = build(history)
    messages = request["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant", "system", "user"]
    assert messages[5]["content"] == f'{RECAP} "My favourite colour is green." "{"x" * 200}…"'
    assert messages[-1]["content"] == "Which colour do I like best?"
    assert hidden_notes(messages) == []  # the user's own words may be repeated
    # Nothing to quote in a first message, and at most the last `limit` messages.
    assert recap_user_messages([{"role": "user", "content": "hi"}]) == [{"role": "user", "content": "hi"}]
    many = [{"role": "user", "content": str(i)} for i in range(9)]
    assert recap_user_messages(many, limit=2)[-2]["content"] == f'{RECAP} "6" "7"'


def test_current_turn_keeps_the_system_prompt_and_all_from_the_newest_user_message():
    sys_, old, ans, new, call = (
        {"role": "system", "content": "s"},
        {"role": "user", "content": "old"},
        {"role": "assistant", "content": "a"},
        {"role": "user", "content": "new"},
        {"role": "tool", "content": "r", "tool_call_id": "c"},
    )
    assert current_turn([sys_, old, ans, new, call]) == [sys_, new, call]
    assert current_turn([old, ans]) == [old, ans]
    assert current_turn([sys_, ans]) == [sys_, ans]


def test_sampling_comes_from_the_model_card_and_settings_override_it():
    request, _ = build("hi")
    # The card's top-p and top-k; no repetition penalty: llama.cpp counts the prompt too, so the
    # fact a memory question asks for was penalised (eval case memory-colour, see SAMPLING).
    assert (request["top_p"], request["top_k"], request["repeat_penalty"]) == (0.8, 20, 1.0)
    model = LocalModel()
    overridden = model.build_request(
        "x", "hi", ModelSettings(temperature=0.9, top_p=0.5, presence_penalty=0.3), [], []
    )[0]
    assert (overridden["temperature"], overridden["top_p"], overridden["presence_penalty"]) == (0.9, 0.5, 0.3)


def _user(text: str, n: int) -> UserMessageItem:
    return UserMessageItem(
        id=f"u{n}",
        thread_id="t",
        created_at=datetime.now(),
        content=[UserMessageTextContent(text=text)],
        inference_options=InferenceOptions(),
    )


async def test_the_sdk_cancel_note_reaches_the_model_as_system_context():
    items = [
        _user("Tell me a long story.", 1),
        AssistantMessageItem(
            id="a1", thread_id="t", created_at=datetime.now(), content=[AssistantMessageContent(text="Once upon")]
        ),
        SDKHiddenContextItem(
            id="h1",
            thread_id="t",
            created_at=datetime.now(),
            content="The user cancelled the stream. Stop responding to the prior request.",
        ),
        _user("What is 2 + 2?", 2),
    ]
    model_input = await ChatConverter().to_agent_input(items)
    request, _ = build(model_input)
    messages = request["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "system", "system", "user"]
    assert messages[3]["content"] == CANCEL_CONTEXT
    assert messages[4]["content"] == f'{RECAP} "Tell me a long story."'
    assert "HiddenContext" not in str(messages) and "cancelled the stream" not in str(messages)
    # The note is what the guard keeps out of answers; the instructions and the user's own words are not.
    assert hidden_notes(messages) == [CANCEL_CONTEXT]


# --- fitting the context ------------------------------------------------------------------------


def count_words(messages) -> int:
    """A stand-in tokenizer for the pure function: one token per word, 5 per message of template."""
    return sum(len(str(m.get("content") or "").split()) + 5 for m in messages)


def test_history_is_trimmed_oldest_first_keeping_system_and_newest():
    history = [{"role": "system", "content": "Be brief."}]
    for i in range(30):
        history += [
            {"role": "user", "content": f"question {i} " + "x " * 20},
            {"role": "assistant", "content": f"answer {i}"},
        ]
    history.append({"role": "user", "content": "newest"})
    fitted, tokens = fit_messages(history, count_words, 200, n_ctx=4096)
    assert tokens == count_words(fitted) <= 200
    assert fitted[0]["content"] == "Be brief." and fitted[-1]["content"] == "newest"
    assert fitted[1]["role"] == "user"  # the kept history starts at a user turn
    # As much recent history as fits: one more turn would not.
    assert count_words([fitted[0], history[-3], history[-2]] + fitted[1:]) > 200 or len(fitted) == len(history)


def test_a_tool_call_and_its_results_are_dropped_together():
    history = [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "old " * 50},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "result " * 50},
        {"role": "user", "content": "newest"},
    ]
    fitted, _ = fit_messages(history, count_words, 40, n_ctx=4096)
    assert [m["role"] for m in fitted] == ["system", "user"]


def test_a_single_message_too_long_is_refused_with_the_limit():
    history = [{"role": "system", "content": "s"}, {"role": "user", "content": "word " * 5000}]
    with pytest.raises(ContextTooLong) as caught:
        fit_messages(history, count_words, 3584, n_ctx=4096)
    error = caught.value
    assert error.needed == 5011 and error.limit == 3584 and error.allow_retry is False
    assert "5,011 tokens" in error.message and "limit is 3,584 tokens" in error.message


@pytest.mark.local_model
async def test_the_runtime_tokenizer_measures_the_rendered_prompt():
    from chat.llm import get_model

    model = get_model("local")
    await model.load()
    short = [{"role": "user", "content": "hi"}]
    long = [{"role": "user", "content": "hi " * 300}]
    base = model.count_tokens(short)
    assert 3 < base < 60  # the template's own tokens plus "hi"
    assert 290 <= model.count_tokens(long) - base <= 310  # one token per " hi"
    tools = [
        {
            "type": "function",
            "function": {"name": "f", "description": "d", "parameters": {"type": "object", "properties": {}}},
        }
    ]
    assert model.count_tokens(short, tools) > base + 20  # the tools' block counts too

    request, _ = model.build_request("Be brief.", "word " * 5000, ModelSettings(max_tokens=512), [], [])
    with pytest.raises(ContextTooLong) as caught:
        model.fit_request(request)
    assert caught.value.limit == model.n_ctx - 512 and caught.value.needed > 5000


@pytest.mark.local_model
async def test_a_prompt_has_at_most_as_many_tokens_as_bytes_so_a_short_one_is_rendered_only():
    from chat.llm import get_model

    model = get_model("local")
    await model.load()
    tools = [
        {
            "type": "function",
            "function": {"name": "f", "description": "d", "parameters": {"type": "object", "properties": {}}},
        }
    ]
    for messages, with_tools in [
        ([{"role": "user", "content": "hi"}], None),
        (
            [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Grüße, ça va? 東京 🌊 " * 20}],
            None,
        ),
        ([{"role": "user", "content": "{}[]<>``` \n\t" * 30}], tools),
    ]:
        prompt = model.render_prompt(messages, with_tools)
        assert model.count_tokens(messages, with_tools) <= len(prompt.encode())

    calls: list[str] = []
    post = model._runtime_post
    model._runtime_post = lambda path, body: calls.append(path) or post(path, body)
    try:
        request, _ = model.build_request("Be brief.", "Tell me a story.", ModelSettings(max_tokens=512), [], [])
        assert 10 < model.fit_request(request) < 200
        assert calls == ["/apply-template"]  # no /tokenize: its bytes prove it fits
        calls.clear()
        request, _ = model.build_request("Be brief.", "word " * 5000, ModelSettings(max_tokens=512), [], [])
        with pytest.raises(ContextTooLong):
            model.fit_request(request)
        assert "/tokenize" in calls  # near or over the limit, it is counted exactly
    finally:
        del model._runtime_post


@pytest.mark.local_model
async def test_a_short_turn_is_measured_by_llama_cpp_itself_with_no_runtime_call():
    from agents import ModelTracing

    from chat.llm import get_model

    model = get_model("local")
    await model.load()
    calls: list[str] = []
    post = model._runtime_post
    model._runtime_post = lambda path, body: calls.append(path) or post(path, body)
    try:
        settings = ModelSettings(max_tokens=8, temperature=0.0)
        text = ""
        async for event in model.stream_response(
            "Be brief.", "Tell me a story.", settings, [], None, [], ModelTracing.DISABLED
        ):
            if event.type == "response.output_text.delta":
                text += event.delta
    finally:
        del model._runtime_post
    assert text.strip() and calls == []  # answered, and nothing asked of the runtime's HTTP endpoints


@pytest.mark.local_model
async def test_a_prompt_longer_in_tokens_than_its_json_in_bytes_is_stopped_unanswered_then_fitted():
    from chat.llm import get_model
    from chat.llm.local import _END

    model = get_model("local")
    await model.load()
    # The tools block of Qwen's template is ~120 tokens of instructions around a tiny spec: this
    # request is 86 bytes of JSON but 131 tokens, so the byte check lets it through unmeasured.
    messages = [{"role": "user", "content": ""}]
    tools = [{"type": "function", "function": {"name": "f"}}]
    size = len(json.dumps([messages, tools]).encode())
    tokens = model.count_tokens(messages, tools)
    assert size < tokens
    budget = (size + tokens) // 2
    request = {"messages": messages, "tools": tools, "stream": True, "max_tokens": model.n_ctx - budget}
    put: list = []
    calls: list[str] = []
    post = model._runtime_post
    model._runtime_post = lambda path, body: calls.append(path) or post(path, body)
    try:
        await model._worker.run(model._generate, request, put.append, threading.Event(), True)
    finally:
        del model._runtime_post
    # llama.cpp's count stopped the attempt before any chunk; the exact fit then refused it.
    assert len(put) == 2 and isinstance(put[0], ContextTooLong) and put[1] is _END
    assert put[0].needed == tokens and put[0].limit == budget
    assert calls[0] == "/apply-template" and not model.is_busy()


@pytest.mark.local_model
async def test_the_kept_runtime_connection_is_replaced_when_it_was_closed():
    from chat.llm import get_model

    model = get_model("local")
    await model.load()
    messages = [{"role": "user", "content": "hi"}]
    expected = model.count_tokens(messages)
    kept = model._connections.conn
    assert model.count_tokens(messages) == expected and model._connections.conn is kept  # reused
    kept.sock.close()  # as when the runtime closes an idle connection
    assert model.count_tokens(messages) == expected
    assert model._connections.conn is not kept


@pytest.mark.local_model
async def test_a_message_too_long_is_refused_before_any_event():
    from agents import ModelTracing

    from chat.llm import get_model

    model = get_model("local")
    await model.load()
    events = []
    with pytest.raises(ContextTooLong):
        async for event in model.stream_response(
            "Be brief.", "word " * 5000, ModelSettings(max_tokens=512), [], None, [], ModelTracing.DISABLED
        ):
            events.append(event)
    assert events == [] and not model.is_busy()
