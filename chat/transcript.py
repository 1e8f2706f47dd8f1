"""A thread rendered readably: who said what, which tools ran, what the user never saw.

Used by the admin (its thread page) and the Markdown export. Works on the
stored JSON (``Item.data``) so it never fails on a row an older or newer SDK
wrote: unknown shapes fall back to a short summary instead of raising.

* :func:`summarize` is an item's plain text (list columns, search, Markdown).
* :func:`render_markdown` is Markdown as safe HTML: ``markdown-it-py`` (CommonMark,
  raw HTML off) and then ``nh3`` (the Ammonia sanitizer), without images, so an
  answer can't run script or load a tracking pixel in a moderator's browser.
* :func:`draw_widget` draws a widget tree as plain HTML (cards, text, buttons
  with their actions, lists); every value is escaped.
* :func:`build_entries` merges items (in ``seq`` order) with the server tool
  calls (:class:`chat.models.ServerToolCall`, by time) into :class:`Entry` rows.
* :func:`transcript_page` reads one page of a thread, newest page first, in a
  fixed number of queries however long the thread is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import nh3
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

SPEAKERS = {
    "user_message": "User",
    "assistant_message": "Assistant",
    "client_tool_call": "Client tool call",
    "server_tool_call": "Server tool call",
    "widget": "Widget",
    "generated_image": "Generated image",
    "structured_input": "Question to the user",
    "workflow": "Workflow",
    "task": "Task",
    "hidden_context_item": "Hidden context",
    "sdk_hidden_context": "Hidden context",
    "end_of_turn": "End of turn",
}

HIDDEN_TYPES = frozenset({"hidden_context_item", "sdk_hidden_context"})
# The SDK's note when a user stops an answer (chatkit.server.handle_stream_cancelled).
CANCEL_NOTE_PREFIX = "The user cancelled the stream"
PAGE_SIZE = 50


# --- plain text -------------------------------------------------------------


def summarize(data: dict[str, Any]) -> str:
    """The readable plain content of one stored item (``Item.data``); ``""`` for none."""
    kind = data.get("type")
    try:
        match kind:
            case "user_message":
                parts = [
                    p.get("text", "") if p.get("type") == "input_text" else f"@{p.get('text', '')}"
                    for p in data.get("content", [])
                ]
                files = [a.get("name", "?") for a in data.get("attachments", [])]
                quoted = f"> {data['quoted_text']}\n" if data.get("quoted_text") else ""
                return quoted + " ".join(parts) + (f"  [attached: {', '.join(files)}]" if files else "")
            case "assistant_message":
                return "".join(p.get("text", "") for p in data.get("content", []))
            case "client_tool_call":
                args = json.dumps(data.get("arguments", {}), ensure_ascii=False)
                status = data.get("status", "pending")
                output = data.get("output")
                tail = f" → {json.dumps(output, ensure_ascii=False)}" if output is not None else ""
                return f"{data.get('name')}({args}) [{status}]{tail}"
            case "widget":
                return summarize_widget(data.get("widget") or {})
            case "workflow":
                tasks = (data.get("workflow") or {}).get("tasks", [])
                titles = [t.get("title") or t.get("content") or t.get("type", "task") for t in tasks]
                return f"{len(tasks)} task(s): " + "; ".join(str(t) for t in titles)
            case "task":
                task = data.get("task") or {}
                return str(task.get("title") or task.get("content") or task.get("type", ""))
            case "hidden_context_item" | "sdk_hidden_context":
                content = data.get("content")
                return content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
            case "generated_image":
                image = data.get("image") or {}
                return f"image {image.get('url', '(pending)')}"
            case _:
                return ""
    except (AttributeError, TypeError):
        return json.dumps(data, ensure_ascii=False)[:300]


TEXT_NODES = {"Title", "Text", "Caption", "Markdown", "Label", "Badge"}


def summarize_widget(root: dict[str, Any]) -> str:
    """``"Card: Which city? · buttons: Lisbon, Porto"`` from a widget tree."""
    texts: list[str] = []
    buttons: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            kind = node.get("type")
            if kind == "Button" and node.get("label"):
                buttons.append(str(node["label"]))
            elif kind in TEXT_NODES and node.get("value", node.get("label")):
                texts.append(str(node.get("value", node.get("label"))))
            for child in node.get("children") or []:
                walk(child)

    walk(root)
    summary = f"{root.get('type', 'Widget')}: " + " · ".join(texts[:4])
    if buttons:
        summary += " · buttons: " + ", ".join(buttons)
    return summary


# --- HTML -------------------------------------------------------------------


@cache
def _markdown():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")


_SAFE_TAGS = frozenset(nh3.ALLOWED_TAGS) - {"img", "map", "area"}


def render_markdown(text: str) -> SafeString:
    """``text`` (Markdown) as sanitized HTML: no raw HTML, scripts, event handlers or images."""
    html = _markdown().render(text or "")
    return mark_safe(nh3.clean(html, tags=set(_SAFE_TAGS), link_rel="noopener noreferrer nofollow"))  # noqa: S308 (nh3 sanitized it)


def _action_label(action: Any) -> str:
    if isinstance(action, dict) and action.get("type"):
        payload = action.get("payload")
        return f"action {action['type']}" + (f" {json.dumps(payload, ensure_ascii=False)}" if payload else "")
    return "no action"


def draw_widget(node: Any, depth: int = 0) -> SafeString:
    """A widget tree (``WidgetItem.widget`` JSON) as escaped HTML: containers, text, buttons.

    Buttons are drawn disabled, titled with the action they send. Images are
    named, not loaded. Unknown components draw their children.
    """
    if not isinstance(node, dict) or depth > 30:
        return mark_safe("")
    kind = node.get("type", "")
    children = format_html_join("", "{}", ((draw_widget(c, depth + 1),) for c in node.get("children") or []))
    value = node.get("value", node.get("label", ""))
    match kind:
        case "Card" | "ListView" | "Box" | "Form":
            return format_html('<div class="ck-widget ck-{}">{}</div>', kind.lower(), children)
        case "Row":
            return format_html('<div class="ck-row">{}</div>', children)
        case "Col" | "ListViewItem":
            return format_html('<div class="ck-col">{}</div>', children)
        case "Title":
            return format_html("<strong>{}</strong>", value)
        case "Markdown":
            return format_html('<div class="ck-md">{}</div>', render_markdown(str(value)))
        case "Text" | "Caption" | "Label":
            return format_html("<div>{}</div>", value)
        case "Badge":
            return format_html('<span class="ck-badge">{}</span>', value)
        case "Button":
            return format_html(
                '<button type="button" disabled class="ck-button" title="{}">{}</button>',
                _action_label(node.get("onClickAction")),
                node.get("label", ""),
            )
        case "Divider":
            return mark_safe("<hr>")
        case "Image":
            return format_html('<span class="ck-image">[image {}]</span>', node.get("alt") or node.get("src", ""))
        case _:
            return format_html("<div>{}</div>", children) if node.get("children") else mark_safe("")


def _json(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, indent=2, ensure_ascii=False)


# --- entries ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """One block of the transcript.

    Attributes:
        kind: the item ``type``, or ``"server_tool_call"``.
        speaker: who or what it is ("User", "Assistant", "Server tool call", …).
        ref: the item id (or the tool's call id).
        created_at: when it happened.
        html: the drawn content (safe HTML).
        text: the plain content (for search and Markdown).
        hidden: the user never saw it (hidden context, end of turn).
        feedback: "positive", "negative" or "".
        notes: short facts shown beside it ("answered by echo", "cut off: …").
    """

    kind: str
    speaker: str
    ref: str
    created_at: Any
    html: SafeString
    text: str = ""
    hidden: bool = False
    feedback: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


def _attachments_html(data: dict[str, Any], links: dict[str, str]) -> SafeString:
    parts = []
    for att in data.get("attachments") or []:
        name, mime = att.get("name", "?"), att.get("mime_type", "")
        href = links.get(att.get("id", ""))
        label = format_html("{} <small>({})</small>", name, mime)
        if att.get("type") == "image" and att.get("preview_url") and href:
            label = format_html('<img src="{}" alt="{}" class="ck-preview"> {}', att["preview_url"], name, label)
        parts.append(format_html('<a href="{}">{}</a>', href, label) if href else label)
    if not parts:
        return mark_safe("")
    return format_html('<div class="ck-attachments">📎 {}</div>', format_html_join(" · ", "{}", ((p,) for p in parts)))


def item_entry(item, feedback: str = "", attachment_links: dict[str, str] | None = None) -> Entry:
    """The :class:`Entry` of one ``chat.models.Item`` row (``id``, ``type``, ``data``, ``created_at``)."""
    data, kind = item.data or {}, item.type
    notes: list[str] = []
    text = summarize(data)
    match kind:
        case "user_message":
            body = format_html(
                "{}{}{}",
                format_html("<blockquote>{}</blockquote>", data["quoted_text"]) if data.get("quoted_text") else "",
                render_markdown(
                    " ".join(
                        p.get("text", "") if p.get("type") == "input_text" else f"@{p.get('text', '')}"
                        for p in data.get("content", [])
                    )
                ),
                _attachments_html(data, attachment_links or {}),
            )
            options = data.get("inference_options") or {}
            if options.get("model"):
                notes.append(f"answered by {options['model']}")
            if options.get("tool_choice"):
                notes.append(f"tool choice {options['tool_choice'].get('id', options['tool_choice'])}")
        case "assistant_message":
            body = render_markdown("".join(p.get("text", "") for p in data.get("content", [])))
        case "widget":
            body = format_html("{}<div class='ck-summary'>{}</div>", draw_widget(data.get("widget") or {}), text)
        case "client_tool_call":
            body = format_html(
                "<code>{}</code> <span class='ck-status'>[{}]</span><div>arguments</div><pre>{}</pre>{}",
                data.get("name", "?"),
                data.get("status", "pending"),
                _json(data.get("arguments", {})),
                format_html("<div>output</div><pre>{}</pre>", _json(data["output"]))
                if data.get("output") is not None
                else "",
            )
        case _:
            body = format_html("<div class='ck-plain'>{}</div>", text)
    return Entry(
        kind=kind,
        speaker=SPEAKERS.get(kind, kind),
        ref=item.id,
        created_at=item.created_at,
        html=body,
        text=text,
        hidden=kind in HIDDEN_TYPES or kind == "end_of_turn",
        feedback=feedback,
        notes=tuple(notes),
    )


def tool_call_entry(call) -> Entry:
    """The :class:`Entry` of one :class:`chat.models.ServerToolCall`."""
    finished = call.finished_at is not None
    body = format_html(
        "<code>{}</code><div>arguments</div><pre>{}</pre>{}",
        call.name,
        _json(call.arguments or "{}"),
        format_html("<div>result</div><pre>{}</pre>", call.output)
        if finished
        else mark_safe("<div><em>no result: the turn ended before the tool returned</em></div>"),
    )
    return Entry(
        kind="server_tool_call",
        speaker=SPEAKERS["server_tool_call"],
        ref=call.call_id,
        created_at=call.created_at,
        html=body,
        text=f"{call.name}({call.arguments}) → {call.output}",
        notes=("ran on the server",),
    )


def build_entries(
    items, tool_calls=(), feedback: dict[str, str] | None = None, attachment_links: dict[str, str] | None = None
) -> list[Entry]:
    """Entries for ``items`` (``Item`` rows in ``seq`` order) and ``tool_calls`` merged by time.

    A tool call goes before the first item stamped after it started (items of
    one turn share a clock; ties go to the item). An assistant message followed by
    the SDK's cancel note is marked "cut off".
    """
    feedback = feedback or {}
    items = list(items)
    calls = sorted(tool_calls, key=lambda c: (c.created_at, c.seq or 0))
    entries: list[Entry] = []
    position = 0
    for index, item in enumerate(items):
        while position < len(calls) and calls[position].created_at < item.created_at:
            entries.append(tool_call_entry(calls[position]))
            position += 1
        entry = item_entry(item, feedback.get(item.id, ""), attachment_links)
        if item.type == "assistant_message" and _cancelled_after(items, index):
            entry = _with_note(entry, "cut off: the user stopped this answer")
        entries.append(entry)
    entries.extend(tool_call_entry(c) for c in calls[position:])
    return entries


def _cancelled_after(items: list, index: int) -> bool:
    following = items[index + 1] if index + 1 < len(items) else None
    return bool(
        following is not None
        and following.type == "sdk_hidden_context"
        and str((following.data or {}).get("content", "")).startswith(CANCEL_NOTE_PREFIX)
    )


def _with_note(entry: Entry, note: str) -> Entry:
    from dataclasses import replace

    return replace(entry, notes=(*entry.notes, note))


# --- one page of a thread ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class TranscriptPage:
    """One page of a thread's transcript (page 1 is the newest).

    Attributes:
        entries: the page's entries, oldest first.
        number: this page's number (1 = newest items).
        pages: how many pages the thread has.
        total: how many items the thread has.
    """

    entries: list[Entry]
    number: int
    pages: int
    total: int

    @property
    def older(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None

    @property
    def newer(self) -> int | None:
        return self.number - 1 if self.number > 1 else None


def transcript_page(thread_id: str, number: int = 1, per_page: int = PAGE_SIZE, attachment_url=None) -> TranscriptPage:
    """Page ``number`` of thread ``thread_id``'s transcript, in five queries at most.

    Page 1 holds the newest ``per_page`` items; a page shows the server tool
    calls that started between its first item and the next page's first item.
    ``attachment_url(seq) -> str`` links attachments (the admin's staff-only download view).
    A page number past the end gives the oldest page.
    """
    from . import models

    items = models.Item.objects.filter(thread_id=thread_id)
    total = items.count()
    pages = max(1, -(-total // per_page))
    number = min(max(1, number), pages)
    start = (number - 1) * per_page
    # One row more on the newer side: where this page's time range ends.
    lead = 1 if start else 0
    rows = list(items.order_by("-seq").only("id", "type", "data", "created_at", "seq")[start - lead : start + per_page])
    boundary = rows.pop(0) if lead and rows else None
    rows.reverse()

    calls = models.ServerToolCall.objects.filter(thread_id=thread_id)
    if rows and number < pages:
        calls = calls.filter(created_at__gte=rows[0].created_at)
    if boundary is not None:
        calls = calls.filter(created_at__lt=boundary.created_at)
    calls = list(calls) if rows or total == 0 else []

    ids = [row.id for row in rows]
    feedback = dict(models.Feedback.objects.filter(thread_id=thread_id, item_id__in=ids).values_list("item_id", "kind"))
    attachment_ids = [
        a.get("id") for row in rows if row.type == "user_message" for a in (row.data or {}).get("attachments") or []
    ]
    links = {}
    if attachment_ids and attachment_url is not None:
        links = {
            att_id: attachment_url(seq)
            for att_id, seq in models.Attachment.objects.filter(id__in=attachment_ids).values_list("id", "seq")
        }
    return TranscriptPage(build_entries(rows, calls, feedback, links), number, pages, total)
