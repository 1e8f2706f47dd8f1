"""Rules about threads and items that the store, the request check and the server share.

Each rule is written once here: the reason a thread refuses new turns
(:func:`refusal_for`), a thread's title from its first message
(:func:`title_from_text`) and the plain text of an item (:func:`item_text`).
"""

from __future__ import annotations

import re

from chatkit.types import ThreadItem, ThreadMetadata

TITLE_MAX_CHARS = 60


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
