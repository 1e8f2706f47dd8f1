"""Recognise a small model's tool call in its plain-text answer.

Qwen2.5-Coder 0.5B/1.5B, given tools through the chat template's ``tools``
field, answer a call as a bare JSON object ``{"name": ..., "arguments": {...}}``,
sometimes inside a ```json code fence, rarely inside Qwen's own
``<tool_call>...</tool_call>`` tags. llama.cpp's parser expects only the tags
and so misses most calls (measured by the team), hence this lenient parser.

Rule: the *whole* answer (whitespace aside) must be one such object and
``name`` must be a declared tool; anything else is ordinary text. That keeps
prose or code that merely contains braces as text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

__all__ = [
    "ParsedToolCall",
    "could_be_tool_call",
    "find_tool_call",
    "looks_like_tool_call",
    "parse_tool_call",
    "repair_tool_call",
]

_FENCE = re.compile(r"^```[a-zA-Z0-9_-]*[ \t]*\n(?P<body>.*?)\n?```$", re.DOTALL)
_TAG_OPEN, _TAG_CLOSE = "<tool_call>", "</tool_call>"
# Keys a call object may start with; any other first key means "not a call".
_CALL_KEYS = ("name", "arguments", "parameters", "function")


@dataclass(frozen=True)
class ParsedToolCall:
    """One recognised call: the tool's ``name`` and its ``arguments`` as a JSON object string."""

    name: str
    arguments: str


def _unwrap(text: str) -> str:
    """Strip surrounding whitespace, a Markdown code fence and ``<tool_call>`` tags."""
    s = text.strip()
    m = _FENCE.match(s)
    if m:
        s = m.group("body").strip()
    if s.startswith(_TAG_OPEN):
        s = s[len(_TAG_OPEN) :]
        if s.rstrip().endswith(_TAG_CLOSE):
            s = s.rstrip()[: -len(_TAG_CLOSE)]
        s = s.strip()
    return s


def parse_tool_call(text: str, tool_names: Collection[str]) -> ParsedToolCall | None:
    """Return the call ``text`` encodes, or ``None`` if it is ordinary text.

    Accepted shapes (after stripping whitespace, a code fence, or tags):
    ``{"name": N, "arguments": A}`` where A is an object or a JSON string
    holding one (``"parameters"`` is accepted for ``"arguments"``, and the
    OpenAI-like ``{"function": {"name": N, "arguments": A}}`` too).
    ``N`` must be in ``tool_names``. Missing arguments become ``{}``.
    """
    call = _parse_call_object(text)
    if call is None or call.name not in tool_names:
        return None
    return call


def looks_like_tool_call(text: str) -> bool:
    """Whether ``text`` is a call object in any accepted shape, whatever tool it names.

    Tiny models sometimes "call" a tool nobody offered (``{"name": "hello", …}``);
    such output is no answer for a person, so the caller asks again for text.
    """
    return _parse_call_object(text) is not None


def _parse_call_object(text: str) -> ParsedToolCall | None:
    """Parse a call object of any tool name, or return ``None``."""
    body = _unwrap(text)
    if not body.startswith("{"):
        return None
    try:
        obj = json.loads(body)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("function"), dict) and "name" not in obj:
        obj = obj["function"]
    name = obj.get("name")
    if not isinstance(name, str) or not name:
        return None
    args = obj.get("arguments", obj.get("parameters", {}))
    if isinstance(args, str):
        try:
            args = json.loads(args) if args.strip() else {}
        except ValueError:
            return None
    if args is None:
        args = {}
    if not isinstance(args, dict):
        return None
    return ParsedToolCall(name=name, arguments=json.dumps(args, ensure_ascii=False))


def _json_prefix_could_be_call(s: str) -> bool:
    """Could ``s`` (already unwrapped) still grow into a call object?"""
    if not s:
        return True
    if not s.startswith("{"):
        return False
    rest = s[1:].lstrip()
    if not rest:
        return True
    if not rest.startswith('"'):
        return False
    key, closed, _ = rest[1:].partition('"')
    if closed:
        return key in _CALL_KEYS
    return any(k.startswith(key) for k in _CALL_KEYS)


def could_be_tool_call(prefix: str) -> bool:
    """Whether a streamed answer starting with ``prefix`` might still be a tool call.

    Used to decide when streaming text may begin: while this is True the
    output is held back; as soon as it is False the held text is released
    and the rest streams token by token. Conservative on purpose: a
    ``False`` is final, a ``True`` only means "wait".
    """
    s = prefix.lstrip()
    if not s:
        return True
    if s.startswith("```"):
        header, newline, body = s[3:].partition("\n")
        if not newline:
            # Still inside the info string: only a language tag may follow.
            return re.fullmatch(r"[a-zA-Z0-9_-]*[ \t]*", header) is not None
        return _json_prefix_could_be_call(body.lstrip())
    if "```".startswith(s):
        return True
    if s.startswith(_TAG_OPEN):
        return _json_prefix_could_be_call(s[len(_TAG_OPEN) :].lstrip())
    if _TAG_OPEN.startswith(s):
        return True
    return _json_prefix_could_be_call(s)


def repair_tool_call(
    text: str, tool_names: Collection[str], required: Mapping[str, Collection[str]] | None = None
) -> ParsedToolCall | None:
    """Rescue a declared tool's call that was cut off (a loop stopped, the token cap reached).

    Tries ``text`` (unwrapped) cut back to each earlier complete value, with the
    open brackets closed, newest first; returns the first that parses as a call to
    a declared tool with all its ``required[name]`` arguments, else ``None``. E.g. ``{"name": "f", "arguments": {"options":
    ["a", "b", "a", "b`` becomes a call of ``f`` with options ``["a", "b", "a"]``.
    """
    body = _unwrap(text)
    if _TAG_CLOSE in body:
        body = body[: body.index(_TAG_CLOSE)]
    if body.startswith("```"):
        body = body.split("\n", 1)[1] if "\n" in body else ""
    body = body.rstrip("`").strip()
    if not body.startswith("{"):
        return None
    stack: list[str] = []
    in_string = escaped = False
    cuts: list[tuple[int, str]] = []  # (end index, closers) after each complete value
    for i, ch in enumerate(body):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
                cuts.append((i + 1, "".join(reversed(stack))))
            continue
        if ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]":
            if not stack:
                break
            stack.pop()
            cuts.append((i + 1, "".join(reversed(stack))))
            if not stack:
                break
        elif ch == ",":
            cuts.append((i, "".join(reversed(stack))))
    for end, closers in reversed(cuts[-200:]):
        call = parse_tool_call(body[:end].rstrip().rstrip(",") + closers, tool_names)
        if call is not None:
            needed = set((required or {}).get(call.name, ()))
            if needed <= set(json.loads(call.arguments)):
                return call
    return None


def find_tool_call(text: str, tool_names: Collection[str]) -> tuple[int, ParsedToolCall] | None:
    """The first complete call to a declared tool anywhere in ``text``, with where it starts.

    Small models often write a sentence first ("Sure! Here is the call:") and the
    call after it, bare, fenced or tagged. The start returned includes a fence
    or ``<tool_call>`` tag around the object, so ``text[:start]`` is the prose before it.
    """
    for start, ch in enumerate(text):
        if ch != "{":
            continue
        end = object_end(text, start)
        if end is None:
            continue
        call = parse_tool_call(text[start:end], tool_names)
        if call is None:
            continue
        before = text[:start].rstrip()
        for opener in (_TAG_OPEN, "```json", "```JSON", "```"):
            if before.endswith(opener):
                return len(before) - len(opener), call
        return start, call
    return None


def object_end(text: str, start: int) -> int | None:
    """The index after the ``}`` closing the object opened at ``text[start]``, or ``None``."""
    depth = 0
    in_string = escaped = False
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    return None
