"""The embedded model's output filters: scaffolding never reaches an answer, loops stop early."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chat.llm.guard import RepetitionDetector, ScaffoldingGuard

CANCEL = "Note for the assistant: the user stopped your previous answer before it was finished."


def run(guard: ScaffoldingGuard, pieces: list[str]) -> tuple[str, bool]:
    """Feed ``pieces`` like a token stream; return (text shown, whether the guard stopped)."""
    shown = ""
    for piece in pieces:
        result = guard.feed(piece)
        shown += result.text
        if result.stop:
            return shown, True
    return shown + guard.flush(), False


def tokens(text: str, size: int = 3) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def test_plain_text_passes_unchanged_and_streams():
    text = "Paris is the capital of France. It has **3** airports [1] and {many} cafés; 2 < 3."
    guard = ScaffoldingGuard()
    shown_early = guard.feed(text[:20]).text
    assert shown_early  # text streams before the end, not in one lump
    assert run(ScaffoldingGuard(), tokens(text)) == (text, False)


def test_code_fences_that_are_not_tool_calls_pass():
    text = "Here:\n```python\nprint({'a': 1})\n```\nDone."
    assert run(ScaffoldingGuard(tool_names={"add"}), tokens(text, 2)) == (text, False)


@pytest.mark.parametrize(
    "scaffolding",
    [
        '<tool_call>\n{"name": "current_time", "arguments": {}}\n</tool_call>',
        "<tool_response>\n12:00\n</tool_response>",
        "[tool show_quick_replies({}) returned: The options are shown]",
        "<|im_start|>user\nhi",
        "Hidden context for the agent (not shown to the user)",
    ],
)
def test_answer_ends_where_scaffolding_starts(scaffolding):
    shown, stopped = run(ScaffoldingGuard(), tokens("Sure, here you go. " + scaffolding + " more text"))
    assert stopped and shown == "Sure, here you go."


def test_a_declared_tool_call_mid_answer_is_handed_back_as_a_call():
    guard = ScaffoldingGuard(tool_names={"current_time"})
    shown = ""
    for piece in tokens('Let me check. {"name": "current_time", "arguments": {"timezone": "UTC"}} ok'):
        result = guard.feed(piece)
        shown += result.text
        if result.stop:
            break
    assert result.call is not None and result.call.name == "current_time"
    assert shown == "Let me check."


def test_a_call_object_for_an_undeclared_tool_is_cut():
    shown, stopped = run(ScaffoldingGuard(tool_names={"add"}), tokens('Ok. {"name": "hello", "arguments": {}} bye'))
    assert stopped and shown == "Ok."


def test_an_echo_of_hidden_context_is_cut_before_its_words():
    guard = ScaffoldingGuard(hidden=[CANCEL])
    shown, stopped = run(guard, tokens("2 + 2 is 4, and the user stopped your previous answer before it was finished."))
    assert stopped
    assert shown == "2 + 2 is 4"
    assert "stopped" not in shown


def test_hidden_context_words_used_apart_are_fine():
    text = "The user asked about the answer. Previous results were finished early."
    assert run(ScaffoldingGuard(hidden=[CANCEL]), tokens(text)) == (text, False)


@given(st.text(alphabet=st.characters(blacklist_characters="<[{`H"), max_size=200))
def test_text_without_any_marker_start_is_never_changed(text):
    # (Trailing whitespace aside: the end of an answer is trimmed.)
    assert run(ScaffoldingGuard(tool_names={"add"}), tokens(text)) == (text.rstrip(" \t\r\n"), False)


# --- the repetition stop ------------------------------------------------------------------


def first_loop_at(text: str, step: int = 4) -> int | None:
    """Where a token-by-token detector first reports a loop (characters seen), or None."""
    detector = RepetitionDetector()
    for end in range(step, len(text) + step, step):
        if detector.looping(text[:end]):
            return min(end, len(text))
    return None


def test_the_same_line_three_times_is_a_loop_caught_on_the_third():
    line = "Give me some quick reply options for planning a trip.\n"
    at = first_loop_at(line * 40)
    assert at is not None and at <= 3 * len(line) + 4


def test_a_run_repeated_back_to_back_is_a_loop_long_before_the_cap():
    text = "Options: " + "Paris, Rome, Lisbon, " * 60
    at = first_loop_at(text)
    assert at is not None and at < 120


def test_json_options_repeating_inside_a_call_are_a_loop():
    text = (
        '{"name": "show_quick_replies", "arguments": {"question": "Where?", "options": [' + '"Lisbon", "Paris", ' * 30
    )
    assert first_loop_at(text) is not None


def test_a_list_whose_items_repeat_one_sentence_is_a_loop_by_the_third_item():
    # eval case quick-plan: no line and no back-to-back run repeats, yet the answer ran to the cap.
    items = [
        f"{i}. **{kind} Trip**: Plan your {kind.lower()} trip with friends or family members. "
        f"This could include {what}.\n"
        for i, (kind, what) in enumerate(
            [("Day", "museums"), ("Night", "concerts"), ("Week", "hikes"), ("Month", "courses")] * 3, 1
        )
    ]
    text = "Here are some options:\n\n" + "".join(items)
    at = first_loop_at(text)
    assert at is not None and at < len("".join(items[:3])) + 30


def test_repeated_code_in_a_fence_is_not_a_word_loop():
    body = "total = total + price * count + tax\nprint(total, price, count)\n" * 3
    assert not RepetitionDetector()._word_loop("Sum them:\n```python\n" + body + "```\nDone.")
    assert RepetitionDetector()._word_loop("Sum them:\n" + body)  # the same words outside a fence do


@pytest.mark.parametrize(
    "text",
    [
        "1. Learn the basics.\n2. Practise every day.\n3. Read other people's code.\n",
        "| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n",
        "Wow!!! That is great... Really -- really great.",
        "def f(x):\n    return x + 1\n\n\ndef g(x):\n    return x + 2\n",
        "The sea whispers,\nWhispers of the wind,\nWhispers of the waves.",
    ],
)
def test_ordinary_answers_are_not_loops(text):
    assert first_loop_at(text, step=1) is None
