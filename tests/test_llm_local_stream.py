"""LocalModel's answer stream with the runtime's output scripted: loops stopped, caps marked, scaffolding kept out.

Only the language model is replaced (``_raw_chunks``, the llama.cpp token
stream); the guard, the repetition stop, the tool-call recogniser, the SDK's
``ChatCmplStreamHandler`` and the Responses events are the real ones.
"""

from __future__ import annotations

import json
import math
import threading

from agents import ModelSettings, ModelTracing, function_tool

from chat.llm.guard import CUT_OFF_LENGTH, CUT_OFF_LOOP
from chat.llm.local import _FALLBACK, LocalModel


@function_tool
def show_quick_replies(question: str, options: list[str]) -> str:
    """Offer quick-reply buttons: 2 to 4 options to pick from.

    Args:
        question: the question the buttons answer.
        options: 2 to 4 options.
    """
    return "shown"


class Scripted(LocalModel):
    """A LocalModel whose runtime writes the given answers (one list of token strings per call).

    ``narrow_tools`` is off by default: these tests are about the stream of an
    answer the model writes freely with tools offered (the decided call has its
    own tests below).
    """

    def __init__(self, *answers: tuple[list[str], str], narrow_tools: bool = False):
        super().__init__(narrow_tools=narrow_tools)
        self.answers = list(answers)
        self.requests: list[dict] = []
        self.tokens_sent = 0

    async def load(self) -> None:  # no weights needed: the runtime is scripted
        return None

    def fit_request(self, request):
        return 0

    async def _raw_chunks(self, request, abort: threading.Event, *, fit=False):
        self.requests.append(request)
        pieces, finish = self.answers.pop(0)
        for piece in pieces:
            if abort.is_set():
                return
            self.tokens_sent += 1
            yield {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
        yield {"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}


async def answer(model: LocalModel, text: str = "hi", tools=()) -> tuple[str, list]:
    """The final output of one streamed answer: (its text, its function calls)."""
    final = None
    async for event in model.stream_response(
        "Be brief.", text, ModelSettings(), list(tools), None, [], ModelTracing.DISABLED
    ):
        if event.type == "response.completed":
            final = event.response
    texts = [c.text for o in final.output if o.type == "message" for c in o.content]
    calls = [o for o in final.output if o.type == "function_call"]
    return "".join(texts), calls


def words(text: str) -> list[str]:
    return [w + " " for w in text.split(" ")]


async def test_a_loop_is_stopped_early_and_marked_cut_off():
    line = "Give me some quick reply options for planning a trip.\n"
    model = Scripted((words(line * 40), "length"))
    text, calls = await answer(model)
    assert text.endswith(CUT_OFF_LOOP) and not calls
    assert text.count("planning a trip") <= 3
    assert model.tokens_sent < 40  # stopped on the third copy, not at the cap (400 tokens)


async def test_an_answer_that_reaches_the_cap_says_it_was_cut_off():
    model = Scripted((words("Lisbon is a city on the Atlantic coast with old trams"), "length"))
    text, _ = await answer(model)
    assert text == "Lisbon is a city on the Atlantic coast with old trams" + CUT_OFF_LENGTH


async def test_a_repeating_tool_call_is_rescued_as_a_call_not_shown_as_json():
    start = '{"name": "show_quick_replies", "arguments": {"question": "Where to?", "options": ['
    model = Scripted(([start] + ['"Lisbon", ', '"Paris", '] * 60, "length"))
    text, calls = await answer(model, "Show me quick reply buttons", [show_quick_replies])
    assert text == "" and len(calls) == 1
    args = json.loads(calls[0].arguments)
    assert args["question"] == "Where to?" and args["options"][:2] == ["Lisbon", "Paris"]
    assert model.tokens_sent < 40


async def test_an_unusable_call_is_asked_again_for_text():
    model = Scripted(
        (['{"name": "show_quick', '_replies", "arguments": {"question": '], "stop"),
        (words("Pick Lisbon or Porto."), "stop"),
    )
    text, calls = await answer(model, "Show me quick reply buttons", [show_quick_replies])
    assert text == "Pick Lisbon or Porto." and not calls
    retry = model.requests[1]
    assert "tools" not in retry and retry["messages"][-1]["role"] == "system"


async def test_an_answer_of_scaffolding_only_is_asked_again_then_apologises():
    scaffold = (["<tool", "_call>\n", '{"name": "x"}'], "stop")
    model = Scripted(scaffold, scaffold)
    text, _ = await answer(model)
    assert text == _FALLBACK
    assert len(model.requests) == 2


async def test_scaffolding_after_text_ends_the_answer_there():
    model = Scripted(
        (words("It is 09:30 in Paris.") + ["<tool_response>", "\n09:30\n", "</tool_response>", " more"], "stop")
    )
    text, _ = await answer(model)
    assert text == "It is 09:30 in Paris."


async def test_a_call_cut_short_by_a_loop_is_asked_again_and_the_retry_runs():
    # A repeating "call" with no usable arguments: stopped early, then asked again for text.
    looping = ['{"name": "show_quick_replies", "arguments": {"question": "'] + ["Where where where "] * 40
    model = Scripted((looping, "length"), (words("Lisbon, Porto or Faro?"), "stop"))
    text, calls = await answer(model, "Show me quick reply buttons", [show_quick_replies])
    assert text == "Lisbon, Porto or Faro?" and not calls
    assert len(model.requests) == 2


async def test_a_sentence_before_a_call_is_dropped_and_the_call_runs():
    preamble = words("Sure! Here is the JSON object for the function call:") + ["\n\n```json\n"]
    call = [
        '{"name": "show_quick_replies", ',
        '"arguments": {"question": "Tea?", "options": ["Tea", "Coffee"]}}',
        "\n```",
    ]
    model = Scripted((preamble + call + words(" Enjoy!"), "stop"))
    text, calls = await answer(model, "Show me quick reply buttons", [show_quick_replies])
    assert text == "" and [c.name for c in calls] == ["show_quick_replies"]
    assert json.loads(calls[0].arguments)["options"] == ["Tea", "Coffee"]


async def test_a_plain_answer_in_a_turn_with_tools_still_arrives_whole():
    reply = " ".join(f"Point {i}: quick replies are buttons, number {i * 7}." for i in range(12))
    model = Scripted((words(reply.strip()), "stop"))
    text, calls = await answer(model, "What are quick replies?", [show_quick_replies])
    assert text == reply.strip() and not calls


# -- the decided call (narrow_tools on): decided on the newest message, then written under a schema --


class Deciding(Scripted):
    """A Scripted model whose runtime also answers the decision's raw completions.

    ``first`` are the first token's top alternatives (token, probability);
    ``call`` is the text written under the call schema.
    """

    def __init__(self, first: list[tuple[str, float]], call: str = "", *answers):
        super().__init__(*answers, narrow_tools=True)
        self.first, self.call = first, call
        self.completions: list[dict] = []
        self.templated: list[dict] = []

    def _runtime_post(self, path, body):
        assert path == "/apply-template"
        self.templated.append(body)
        return {"prompt": "<prompt>"}

    def _complete(self, body, abort=None):
        self.completions.append(body)
        if "json_schema" in body:
            return [{"choices": [{"text": self.call}]}]
        top = [{"token": t, "logprob": math.log(p)} for t, p in self.first]
        return [{"choices": [{"text": self.first[0][0], "logprobs": {"content": [{"top_logprobs": top}]}}]}]


HISTORY = [
    {"role": "user", "content": "I want to cook dinner tonight."},
    {"role": "assistant", "content": "Sure! What's your favourite dish?"},
    {"role": "user", "content": "Show me quick replies to pick a cuisine."},
]
CALL = '{"name": "show_quick_replies", "arguments": {"question": "Cuisine?", "options": ["Thai", "Greek"]}}'


async def test_a_likely_call_is_decided_on_the_newest_message_and_forced():
    model = Deciding([("```", 0.5), ('{"', 0.2), ("Sure", 0.3)], CALL)
    text, calls = await answer(model, HISTORY, [show_quick_replies])
    assert text == "" and [c.name for c in calls] == ["show_quick_replies"]
    assert json.loads(calls[0].arguments) == {"question": "Cuisine?", "options": ["Thai", "Greek"]}
    # The decision saw the system prompt and the newest message only, with the tools.
    decided = model.templated[0]
    assert [m["role"] for m in decided["messages"]] == ["system", "user"]
    assert decided["messages"][1]["content"] == HISTORY[-1]["content"] and decided["tools"]
    first, forced = model.completions
    assert first["max_tokens"] == 1 and first["n_probs"] >= 10
    assert forced["prompt"].endswith("<tool_call>\n")
    assert forced["json_schema"]["properties"]["name"] == {"const": "show_quick_replies"}
    assert model.requests == []  # no free-running generation at all


async def test_an_unlikely_call_means_a_plain_answer_without_tools():
    model = Deciding([("Quick", 0.9), ("{", 0.05)], "", (words("They are buttons."), "stop"))
    text, calls = await answer(model, "What are quick replies?", [show_quick_replies])
    assert text == "They are buttons." and not calls
    assert len(model.completions) == 1  # only the decision's one token
    assert "tools" not in model.requests[0]


async def test_a_forced_call_that_does_not_finish_falls_back_to_text():
    model = Deciding(
        [("{", 0.9)], '{"name": "show_quick_replies", "arguments": {"question": "Cuis', (words("Thai?"), "stop")
    )
    text, calls = await answer(model, "Show me quick replies to pick a cuisine.", [show_quick_replies])
    assert text == "Thai?" and not calls


async def test_tool_choice_required_skips_the_decision_and_forces_the_call():
    model = Deciding([("Sure", 1.0)], CALL)
    final = None
    async for event in model.stream_response(
        "Be brief.",
        "Hi",
        ModelSettings(tool_choice="show_quick_replies"),
        [show_quick_replies],
        None,
        [],
        ModelTracing.DISABLED,
    ):
        if event.type == "response.completed":
            final = event.response
    assert [o.name for o in final.output if o.type == "function_call"] == ["show_quick_replies"]
    assert len(model.completions) == 1 and "json_schema" in model.completions[0]
