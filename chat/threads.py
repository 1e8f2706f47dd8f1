"""Rules about threads and items that the store, the request check and the server share.

Each rule is written once here: the reason a thread refuses new turns
(:func:`refusal_for`), a thread's title from its first message
(:func:`title_from_text`), the plain text of an item (:func:`item_text`) and
how an answer that was cut off is marked (:func:`cut_off`).
"""

from __future__ import annotations

import re

from chatkit.types import AssistantMessageContent, AssistantMessageItem, ThreadItem, ThreadMetadata

TITLE_MAX_CHARS = 60

# Ends an answer that stopped early (model timeout or error, shutdown, stop button, a killed server).
CUT_OFF_MARK = "\n\n*[cut off]*"


def cut_off(item: AssistantMessageItem) -> AssistantMessageItem:
    """A copy of a partial assistant message whose last part ends with :data:`CUT_OFF_MARK`."""
    marked = item.model_copy(deep=True)
    if not marked.content:
        marked.content.append(AssistantMessageContent(text=""))
    last = marked.content[-1]
    last.text = last.text.rstrip() + CUT_OFF_MARK
    return marked


def is_cut_off(item: ThreadItem) -> bool:
    """Whether ``item`` is an assistant message marked by :func:`cut_off`."""
    return item.type == "assistant_message" and bool(item.content) and item.content[-1].text.endswith(CUT_OFF_MARK)


def has_text(item: AssistantMessageItem) -> bool:
    """Whether an assistant message has any non-blank text yet."""
    return any(part.text.strip() for part in item.content)


def title_from_text(text: str) -> str | None:
    """A short thread title from a first message: its first line, cut at a word.

    Returns ``None`` for blank text. At most ``TITLE_MAX_CHARS`` characters.
    """
    line = next((ln for ln in text.strip().splitlines() if ln.strip()), "")
    line = re.sub(r"\s+", " ", line).strip().strip("#*>`_ ")
    if not line:
        return None
    if len(line) <= TITLE_MAX_CHARS:
        return line
    cut = line[: TITLE_MAX_CHARS - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",.;:-") + "…"


def refusal_for(thread: ThreadMetadata) -> str | None:
    """The reason a thread refuses new turns, or ``None`` when it is active."""
    status = thread.status
    if status.type == "active":
        return None
    reason = getattr(status, "reason", None)
    return f"This thread is {status.type}" + (f": {reason}" if reason else ".")


def item_text(item: ThreadItem) -> str:
    """The plain text of an item, for search and the admin's transcript ("" if none)."""
    match item.type:
        case "user_message":
            return " ".join(part.text for part in item.content if part.type == "input_text")
        case "assistant_message":
            return "\n".join(part.text for part in item.content)
        case "widget":
            return item.copy_text or item.content or ""
        case "hidden_context_item" | "sdk_hidden_context":
            return str(item.content)
        case _:
            return ""
