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
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["choose_tools", "last_user_text"]

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
