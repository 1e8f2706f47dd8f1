"""Which tools a small model is offered on a turn: only those the user's message is about.

Offered every tool's schema on every turn, Qwen2.5-Coder 0.5B calls tools nobody
asked for (the time tool for "What is 12 times 12?") and describes the tool it
should call instead of calling it (issue 11's eval, ``bench/eval.py``). Offered
only the tools whose own words (name and description) the message uses, it
calls the right one far more often, and the prompt is shorter, so the first
token comes sooner.

Rule: a tool is offered when a content word of the user's newest message matches
a word of the tool's name or description (a crude stem: case, plural and verb
endings aside). A message with no such word gets no tools, unless it is not in
English, where words can't match: then every tool is offered, as before.

Deciding (the narrowed choice made decisive): whether the turn calls one of
the offered tools is decided on the newest message alone, from the model's own
first-token probabilities, and then the call is forced. In a thread with
history the same model, asked the same thing, answered from the history
instead of calling the tool: in issue 11's eval (``time-weekday-history``,
``time-again``, ``search-find-rome``, ``search-budget``, ``quick-history``,
``theme-history``) the probability that its answer starts a call fell from
0.74-0.98 with the newest message alone to 0.00-0.06 with the history. Rule:
render the system prompt, the offered tools and the newest user message
(:func:`decision_messages`); the turn calls a tool when the first token's
probability of starting a call (``{``, a code fence or ``<tool_call>``:
:func:`call_probability`) is at least :data:`CALL_THRESHOLD`. The call is
then written under a JSON schema (:func:`call_schema`), so it is always a
well-formed call to an offered tool; otherwise the turn is answered without
tools.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "CALL_THRESHOLD",
    "call_probability",
    "call_schema",
    "choose_tools",
    "decision_messages",
    "last_user_text",
]

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Words that say nothing about which tool is meant (and English markers for the fallback).
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "could",
        "do",
        "does",
        "for",
        "from",
        "get",
        "give",
        "had",
        "has",
        "have",
        "her",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "just",
        "let",
        "like",
        "make",
        "me",
        "mine",
        "my",
        "no",
        "not",
        "now",
        "of",
        "on",
        "one",
        "or",
        "our",
        "please",
        "say",
        "she",
        "should",
        "show",
        "so",
        "some",
        "such",
        "tell",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "up",
        "us",
        "use",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "about",
        "all",
        "also",
        "am",
        "another",
        "each",
        "few",
        "here",
        "more",
        "most",
        "much",
        "only",
        "other",
        "over",
        "very",
        "via",
        "whether",
    ]
)
_ENGLISH = frozenset(
    [
        "the",
        "is",
        "are",
        "what",
        "how",
        "can",
        "you",
        "i",
        "my",
        "me",
        "to",
        "a",
        "and",
        "of",
        "in",
        "it",
        "this",
        "please",
    ]
)


def _stem(word: str) -> str:
    word = word.lower()
    for suffix in ("ing", "ies", "es", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def _content_stems(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text.replace("_", " ")) if w.lower() not in _STOP and len(w) > 2}


def _is_english(text: str) -> bool:
    words = [w.lower() for w in _WORD.findall(text)]
    return not words or any(w in _ENGLISH for w in words) or all(w.isascii() for w in words) and len(words) <= 3


def last_user_text(messages: list[dict[str, Any]]) -> str:
    """The text of the newest ``user`` message (``""`` if there is none)."""
    for msg in reversed(messages):
        if msg.get("role") == "user":
            content = msg.get("content")
            return content if isinstance(content, str) else ""
    return ""


def choose_tools(specs: list[dict[str, Any]], user_text: str) -> list[dict[str, Any]]:
    """The Chat Completions tool specs (``{"type": "function", "function": {...}}``) to offer for ``user_text``.

    See the module's rule. Keeps the specs' order; returns ``specs`` unchanged
    when the message is not in English.
    """
    words = _content_stems(user_text)
    chosen = []
    for spec in specs:
        fn = spec.get("function", {})
        vocabulary = _content_stems(f"{fn.get('name', '')} {fn.get('description', '')}")
        if words & vocabulary:
            chosen.append(spec)
    if not chosen and not _is_english(user_text):
        return specs
    return chosen


# -- deciding whether the turn calls a tool ---------------------------------------------------

# Measured with Qwen2.5-Coder 0.5B on the newest message alone (issue 11: the eval's messages and
# 20 more): messages that ask for a tool gave 0.21-0.98 (lowest: "Give me some quick reply options
# for planning a trip.", eval case quick-plan, which the model otherwise answers with a looping
# list), messages that only mention a tool's topic ("What is a time zone?", "Is dark mode better
# for your eyes?") 0.00-0.14 (highest: "Which destination did I pick?", after a quick-reply click).
CALL_THRESHOLD = 0.17
_CALL_TAG = "<tool_call>"


def starts_call(token: str) -> bool:
    """Whether a first token begins a tool call: ``{``, a code fence, or (a prefix of) ``<tool_call>``."""
    t = token.lstrip()
    return bool(t) and (t.startswith(("{", "```", _CALL_TAG)) or _CALL_TAG.startswith(t))


def call_probability(top_logprobs: Iterable[Mapping[str, Any]]) -> float:
    """Probability that an answer starts a tool call, from its first token's top alternatives.

    ``top_logprobs`` are llama.cpp's ``{"token": str, "logprob": float}`` entries
    for the first generated token (the top 20 are plenty: the rest are tiny).
    Returns the summed probability of the tokens that :func:`starts_call`, 0..1.
    """
    return min(1.0, sum(math.exp(t["logprob"]) for t in top_logprobs if starts_call(t.get("token", ""))))


def decision_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages the call decision sees: the leading system prompt (if any) and the newest user message.

    History is left out on purpose (see the module's docstring): a small model
    given an earlier answer repeats it instead of calling the tool, so the time
    it gives is stale and the search or the widget never runs.
    """
    head = messages[:1] if messages and messages[0].get("role") == "system" else []
    last = next((m for m in reversed(messages) if m.get("role") == "user"), None)
    return head + ([last] if last is not None else [])


MAX_ITEMS = 8  # the longest list a forced call may write where its tool's schema sets no limit


def _bounded(schema: Any) -> Any:
    """A copy of a JSON schema with :data:`MAX_ITEMS` on every array that has no ``maxItems``."""
    if isinstance(schema, list):
        return [_bounded(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _bounded(value) for key, value in schema.items()}
    if out.get("type") == "array" and "maxItems" not in out:
        out["maxItems"] = max(MAX_ITEMS, out.get("minItems", 0))
    return out


def call_schema(specs: list[dict[str, Any]]) -> dict[str, Any]:
    """A JSON schema matching exactly the calls ``{"name": ..., "arguments": {...}}`` to the tools in ``specs``.

    ``specs`` are Chat Completions tool specs; each tool's ``parameters`` schema
    constrains its ``arguments``. Given to llama.cpp as ``json_schema``, the
    model can only write a well-formed call to one of these tools.
    Raises ``ValueError`` for an empty ``specs``.
    """
    if not specs:
        raise ValueError("call_schema needs at least one tool")
    options = []
    for spec in specs:
        fn = spec["function"]
        options.append(
            {
                "type": "object",
                "properties": {
                    "name": {"const": fn["name"]},
                    "arguments": _bounded(fn.get("parameters") or {"type": "object", "properties": {}}),
                },
                "required": ["name", "arguments"],
                "additionalProperties": False,
            }
        )
    return options[0] if len(options) == 1 else {"anyOf": options}
