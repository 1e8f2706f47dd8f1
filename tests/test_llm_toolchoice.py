"""Which tools a turn offers the embedded model, and how the call decision reads the model's first token."""

from __future__ import annotations

import math

import jsonschema
import pytest
from agents.models.chatcmpl_converter import Converter

from chat.agents import TOOLS
from chat.llm.local import forced_tools
from chat.llm.toolchoice import (
    CALL_THRESHOLD,
    call_probability,
    call_schema,
    choose_tools,
    decision_messages,
    starts_call,
)

SPECS = [Converter.tool_to_openai(t) for t in TOOLS]


def names(specs):
    return [s["function"]["name"] for s in specs]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Switch to dark mode.", ["switch_theme"]),
        ("Search this conversation for Lisbon.", ["search_conversation"]),
        ("What is 12 times 12?", []),
        ("Wie spät ist es gerade?", names(SPECS)),  # not English: every tool
    ],
)
def test_a_turn_is_offered_the_tools_its_words_name(text, expected):
    assert names(choose_tools(SPECS, text)) == expected


@pytest.mark.parametrize("token", ["```", '{"', "{\n", " {", "<tool_call>", "<", "<tool"])
def test_call_starts(token):
    assert starts_call(token)


@pytest.mark.parametrize("token", ["Sure", "The", "", " ", "<div", "[", "To"])
def test_text_starts(token):
    assert not starts_call(token)


def top(*pairs):
    return [{"token": t, "logprob": math.log(p)} for t, p in pairs]


def test_call_probability_sums_the_call_starting_alternatives():
    # Measured for "Give me some quick reply options for planning a trip." (eval case quick-plan).
    p = call_probability(top(("Certainly", 0.29), ("Sure", 0.23), ('{"', 0.09), ("```", 0.09), ("{\n", 0.03)))
    assert p == pytest.approx(0.21) and p >= CALL_THRESHOLD
    # "Which destination did I pick?" after a quick-reply click: a question, not a request.
    assert call_probability(top(("I", 0.36), ("The", 0.32), ('{"', 0.05))) < CALL_THRESHOLD
    assert call_probability([]) == 0.0


def test_the_decision_sees_the_system_prompt_and_the_newest_user_message_only():
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What time is it in London?"},
        {"role": "assistant", "content": "It is 10:51 in London."},
        {"role": "system", "content": "a hidden note"},
        {"role": "user", "content": "And what time is it now?"},
    ]
    assert decision_messages(messages) == [messages[0], messages[-1]]
    assert decision_messages(messages[1:2]) == messages[1:2]


def test_the_call_schema_allows_exactly_calls_to_the_offered_tools():
    theme = [s for s in SPECS if s["function"]["name"] == "switch_theme"]
    schema = call_schema(theme)
    jsonschema.validate({"name": "switch_theme", "arguments": {"theme": "dark"}}, schema)
    for wrong in (
        {"name": "current_time", "arguments": {"timezone": "UTC"}},
        {"name": "switch_theme"},
        {"name": "switch_theme", "arguments": {}},
        {"name": "switch_theme", "arguments": {"theme": "dark"}, "extra": 1},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(wrong, schema)
    quick = call_schema([s for s in SPECS if s["function"]["name"] == "show_quick_replies"])
    options = {"question": "Cuisine?", "options": ["Thai", "Greek", "Indian", "Italian", "Polish"]}
    jsonschema.validate({"name": "show_quick_replies", "arguments": options}, quick)
    options["options"] *= 2  # 10: past MAX_ITEMS
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "show_quick_replies", "arguments": options}, quick)
    both = call_schema(SPECS[:2])
    assert [o["properties"]["name"]["const"] for o in both["anyOf"]] == names(SPECS[:2])
    with pytest.raises(ValueError):
        call_schema([])


def test_tool_choice_required_or_a_name_forces_a_call():
    offered = {"current_time", "switch_theme"}
    assert forced_tools("required", offered) == offered
    assert forced_tools("switch_theme", offered) == {"switch_theme"}
    assert forced_tools("auto", offered) is None
    assert forced_tools("none", offered) is None
    assert forced_tools(None, offered) is None
    assert forced_tools("required", set()) is None
