"""The embedded model's prompt: messages in the chat template's own roles, fitted to the context.

Rules (issue 11, measured with the eval in ``bench/eval.py``):

* Tool calls stay assistant ``tool_calls`` and results stay ``tool`` messages, so
  the model's chat template renders them in its own format (Qwen2.5:
  ``<tool_call>`` in the assistant turn, ``<tool_response>`` in a user turn).
  Results written as text in the user's turn were copied into answers.
* Context the app adds (hidden context items, the SDK's cancel note) arrives as
  ``system``/``developer`` messages; it is rendered as a ``system`` turn where it
  stood, and its words are handed to the scaffolding guard.
* Before the newest user message, a ``system`` note quotes the user's earlier
  messages (:func:`recap_user_messages`). Without it, after "My favourite
  colour is green." and the model's "Green is my favorite color!", the 0.5B
  answered "Which colour do I like best?" with "I like blue" in most runs (eval
  case ``memory-colour``: 2-3 of 5 seeds right); with it, 10 of 10 (that case
  and ``memory-three-turns``, 5 seeds each). The note is the user's own words,
  so the scaffolding guard does not treat it as hidden.
* The answer after a tool result sees only the current turn: the system
  prompt, the newest user message and the calls and results after it
  (:func:`current_turn`). With the whole thread, the model answered an older
  message instead ("I'm doing well! How about you?" after the time tool ran for
  "What day of the week is it today?", eval case ``time-weekday-history``).
* The prompt is measured with the runtime's own tokenizer; the oldest turns go
  first (a tool call with its results as one), the system prompt and the newest
  message never. A newest message that alone does not fit raises
  :class:`ContextTooLong` before the model runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chatkit.errors import CustomStreamError

__all__ = [
    "ContextTooLong",
    "current_turn",
    "fit_messages",
    "hidden_notes",
    "template_messages",
]

Message = dict[str, Any]


class ContextTooLong(CustomStreamError):
    """The newest message alone does not fit the model's context (a retry can't help).

    A ``CustomStreamError`` so the ChatKit server shows :attr:`message` as the
    turn's ``error`` event; the user's message stays saved. Attributes:
    ``needed`` and ``limit`` in tokens.
    """

    def __init__(self, needed: int, limit: int, n_ctx: int):
        self.needed, self.limit, self.n_ctx = needed, limit, n_ctx
        super().__init__(
            f"This message is too long for the embedded model: it needs about {needed:,} tokens, "
            f"and the limit is {limit:,} tokens for a message with its history "
            f"(a {n_ctx:,}-token context, less room for the answer). Shorten it or split it into parts.",
            allow_retry=False,
        )


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and "text" in p)
    return content if isinstance(content, str) else ""


def template_messages(messages: list[Message]) -> list[Message]:
    """Chat Completions messages (from the SDK's converter) as the runtime's chat template takes them.

    * list-of-parts contents become plain strings (llama.cpp's templates reject
      earlier assistant ``output_text`` parts; see docs/architecture.md);
    * ``developer`` becomes ``system`` (Qwen's template knows no developer role);
    * assistant tool calls and ``tool`` results are kept as they are, for the
      template's own tool turns.
    """
    out: list[Message] = []
    for msg in messages:
        msg = dict(msg)
        if msg.get("role") == "developer":
            msg["role"] = "system"
        if "content" in msg and msg["content"] is not None:
            msg["content"] = _text(msg["content"])
        if msg.get("role") == "assistant" and msg.get("tool_calls") and not msg.get("content"):
            msg["content"] = ""
        out.append(msg)
    return out


RECAP = "Earlier in this conversation the user wrote:"


def recap_user_messages(messages: list[Message], *, limit: int = 6, chars: int = 200) -> list[Message]:
    """``messages`` with a system note quoting the user's earlier messages just before the newest one.

    The note (``RECAP`` then each message in quotes) holds the last ``limit``
    earlier ``user`` messages, each cut to ``chars`` characters. Unchanged when
    the last message is not the user's or there is no earlier one.
    """
    if not messages or messages[-1].get("role") != "user":
        return messages
    earlier = [_text(m.get("content")) for m in messages[:-1] if m.get("role") == "user"]
    earlier = [t.strip() for t in earlier if t.strip()][-limit:]
    if not earlier:
        return messages
    quoted = " ".join(f'"{t[:chars].rstrip()}{"…" if len(t) > chars else ""}"' for t in earlier)
    return [*messages[:-1], {"role": "system", "content": f"{RECAP} {quoted}"}, messages[-1]]


def current_turn(messages: list[Message]) -> list[Message]:
    """The leading system prompt and everything from the newest ``user`` message on (all of it if there is none)."""
    head = messages[:1] if messages and messages[0].get("role") == "system" else []
    for i in range(len(messages) - 1, len(head) - 1, -1):
        if messages[i].get("role") == "user":
            return head + messages[i:]
    return messages


def hidden_notes(messages: list[Message]) -> list[str]:
    """The texts of the system messages after the first one: context the user never saw (the recap aside)."""
    return [
        _text(m.get("content"))
        for i, m in enumerate(messages)
        if m.get("role") in ("system", "developer") and i > 0 and not _text(m.get("content")).startswith(RECAP)
    ]


def _turns(body: list[Message]) -> list[list[Message]]:
    """Group messages so an assistant tool call and its ``tool`` results are dropped together."""
    groups: list[list[Message]] = []
    for msg in body:
        if msg.get("role") == "tool" and groups:
            groups[-1].append(msg)
        else:
            groups.append([msg])
    return groups


def fit_messages(
    messages: list[Message],
    count_tokens: Callable[[list[Message]], int],
    budget: int,
    *,
    n_ctx: int,
) -> tuple[list[Message], int]:
    """Drop the oldest turns until ``count_tokens(messages) <= budget``; return ``(messages, tokens)``.

    The leading system prompt and the newest turn always stay. ``count_tokens``
    measures the whole rendered prompt (template, tools and all) in tokens.
    Raises :class:`ContextTooLong` when the system prompt and the newest turn
    alone are over ``budget``.
    """
    head = messages[:1] if messages and messages[0].get("role") == "system" else []
    groups = _turns(messages[len(head) :])
    tokens = count_tokens(messages)
    if tokens <= budget:
        return messages, tokens
    # Measure the smallest prompt first: if even that is too long, refuse at once.
    smallest = head + (groups[-1] if groups else [])
    tokens = count_tokens(smallest)
    if tokens > budget:
        raise ContextTooLong(needed=tokens, limit=budget, n_ctx=n_ctx)
    # Binary search for the most recent turns that fit (each probe is one tokenisation).
    lo, hi = 1, len(groups)  # lo turns are known to fit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        probe = head + [m for g in groups[-mid:] for m in g]
        probe_tokens = count_tokens(probe)
        if probe_tokens <= budget:
            lo, tokens = mid, probe_tokens
        else:
            hi = mid - 1
    kept = [m for g in groups[-lo:] for m in g]
    # A history must not start with a tool result or an assistant turn answering nothing.
    while len(kept) > 1 and kept[0].get("role") in ("tool", "assistant"):
        kept.pop(0)
    fitted = head + kept
    return fitted, count_tokens(fitted) if len(kept) != sum(len(g) for g in groups[-lo:]) else tokens
