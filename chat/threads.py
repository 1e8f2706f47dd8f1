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
    # New content parts, the rest shared: a heartbeat copies the answer being streamed every
    # beat, and a deep copy of each one was a good part of what 500 open streams cost (issue 15).
    content = [part.model_copy() for part in item.content] or [AssistantMessageContent(text="")]
    content[-1].text = content[-1].text.rstrip() + CUT_OFF_MARK
    return item.model_copy(update={"content": content})


def is_cut_off(item: ThreadItem) -> bool:
    """Whether ``item`` is an assistant message marked by :func:`cut_off`."""
    return item.type == "assistant_message" and bool(item.content) and item.content[-1].text.endswith(CUT_OFF_MARK)


def has_text(item: AssistantMessageItem) -> bool:
    """Whether an assistant message has any non-blank text yet."""
    return any(part.text.strip() for part in item.content)


# Inline Markdown reduced to its words, for titles: images and links keep their text,
# emphasis, strike-through and code lose their markers.
_MARKDOWN_INLINE = [
    (re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"(\*\*|__|~~)(.+?)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?!\w)"), r"\1"),
    (re.compile(r"(?<!\w)_(?!\s)(.+?)(?<!\s)_(?!\w)"), r"\1"),
    (re.compile(r"`+([^`]*)`+"), r"\1"),
]
_MARKDOWN_LINE_START = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*+]\s+|\d+[.)]\s+)+")


def plain_text(line: str) -> str:
    """One line of Markdown as plain text (``"**Bold** [link](u)"`` -> ``"Bold link"``)."""
    line = _MARKDOWN_LINE_START.sub("", line)
    for pattern, replacement in _MARKDOWN_INLINE:
        line = pattern.sub(replacement, line)
    return line


def title_from_text(text: str) -> str | None:
    """A short thread title from a first message: its first line as plain text, cut at a word.

    Returns ``None`` for blank text. At most ``TITLE_MAX_CHARS`` characters.
    Markdown markers are dropped (:func:`plain_text`): the title is shown as text.
    """
    line = next((ln for ln in text.strip().splitlines() if ln.strip(" #*>`_-")), "")
    line = re.sub(r"\s+", " ", plain_text(line)).strip().strip("#*>`_ ")
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
