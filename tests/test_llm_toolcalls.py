"""The lenient tool-call recogniser for small models' plain-text answers."""

from __future__ import annotations

import json

import pytest

from chat.llm.toolcalls import could_be_tool_call, parse_tool_call

TOOLS = {"add", "current_time"}


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "add", "arguments": {"a": 1, "b": 2}}',
        '  \n{"name": "add", "arguments": {"a": 1, "b": 2}}\n',
        '```json\n{"name": "add", "arguments": {"a": 1, "b": 2}}\n```',
        '```\n{"name": "add", "arguments": {"a": 1, "b": 2}}```',
        '<tool_call>\n{"name": "add", "arguments": {"a": 1, "b": 2}}\n</tool_call>',
        '{"name": "add", "arguments": "{\\"a\\": 1, \\"b\\": 2}"}',
        '{"name": "add", "parameters": {"a": 1, "b": 2}}',
        '{"function": {"name": "add", "arguments": {"a": 1, "b": 2}}}',
    ],
)
def test_recognises_calls(text):
    call = parse_tool_call(text, TOOLS)
    assert call is not None and call.name == "add"
    assert json.loads(call.arguments) == {"a": 1, "b": 2}


def test_missing_arguments_become_empty_object():
    call = parse_tool_call('{"name": "current_time"}', TOOLS)
    assert call is not None and json.loads(call.arguments) == {}


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "delete_everything", "arguments": {}}',  # undeclared tool
        'Use {braces} like this: {"name": "add"}',  # prose with braces
        'Sure! {"name": "add", "arguments": {"a": 1}}',  # a call inside prose
        '```python\nprint({"name": "add"})\n```',  # code, not a call
        '{"name": "add", "arguments": [1, 2]}',  # arguments not an object
        '{"name": "add", "arguments": {"a": 1}',  # truncated JSON
        '["add"]',
        "plain text",
    ],
)
def test_everything_else_is_text(text):
    assert parse_tool_call(text, TOOLS) is None


def test_no_declared_tools_means_text():
    assert parse_tool_call('{"name": "add", "arguments": {}}', set()) is None


@pytest.mark.parametrize(
    "prefix", ["", "  ", "{", '{"', '{"na', '{"name"', "`", "``", "```", "```js", "```json\n{", "<tool"]
)
def test_prefixes_that_may_still_be_a_call_are_held(prefix):
    assert could_be_tool_call(prefix)


@pytest.mark.parametrize("prefix", ["H", "Hello", "{x", '{"foo"', "```python\nprint", "```json\nhello", "``a", "<b>"])
def test_prefixes_that_cannot_be_a_call_are_released(prefix):
    assert not could_be_tool_call(prefix)


def test_a_call_to_an_undeclared_tool_is_recognised_as_call_shaped():
    from chat.llm.toolcalls import looks_like_tool_call

    text = '{"name": "hello", "arguments": {"message": "Hello, Django!"}}'
    assert parse_tool_call(text, {"current_time"}) is None
    assert looks_like_tool_call(text)
    assert looks_like_tool_call('```json\n{"name": "x", "parameters": {}}\n```')
    assert not looks_like_tool_call("Hello {name}, welcome!")
    assert not looks_like_tool_call('{"answer": 42}')
