"""A thread's items as a readable transcript: who said what, in order.

Used by the admin. Works on the stored JSON (``Item.data``) so it never
fails on a row an older or newer SDK wrote: unknown shapes fall back to a
short summary instead of raising.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

SPEAKERS = {
    "user_message": "User",
    "assistant_message": "Assistant",
    "client_tool_call": "Client tool call",
    "widget": "Widget",
    "generated_image": "Generated image",
    "structured_input": "Question to the user",
    "workflow": "Workflow",
    "task": "Task",
    "hidden_context_item": "Hidden context",
    "sdk_hidden_context": "Hidden context",
    "end_of_turn": "End of turn",
}


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    """One item of the transcript.

    Attributes:
        item_id: the ChatKit item id.
        speaker: who or what it is ("User", "Assistant", "Widget", …).
        text: the readable content (plain text; Markdown left as written).
        created_at: the item's time.
        muted: True for items the user never sees (hidden context, end of turn).
        feedback: "positive", "negative" or "" (from ``items.feedback``).
    """

    item_id: str
    speaker: str
    text: str
    created_at: Any
    muted: bool = False
    feedback: str = ""


def summarize(data: dict[str, Any]) -> str:
    """The readable content of one stored item (``Item.data``)."""
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


def summarize_widget(root: dict[str, Any]) -> str:
    """``"Card: Which city? · buttons: Lisbon, Porto"`` from a widget tree."""
    texts: list[str] = []
    buttons: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            kind = node.get("type")
            if kind == "Button" and node.get("label"):
                buttons.append(str(node["label"]))
            elif kind in {"Title", "Text", "Caption", "Markdown", "Label", "Badge"} and node.get("value", node.get("label")):
                texts.append(str(node.get("value", node.get("label"))))
            for child in node.get("children") or []:
                walk(child)

    walk(root)
    summary = f"{root.get('type', 'Widget')}: " + " · ".join(texts[:4])
    if buttons:
        summary += " · buttons: " + ", ".join(buttons)
    return summary


def transcript(items, feedback: dict[str, str] | None = None) -> list[TranscriptLine]:
    """Lines for ``items`` (``chat.models.Item`` rows, already in ``seq`` order)."""
    feedback = feedback or {}
    return [
        TranscriptLine(
            item_id=item.id,
            speaker=SPEAKERS.get(item.type, item.type),
            text=summarize(item.data),
            created_at=item.created_at,
            muted=item.type in {"hidden_context_item", "sdk_hidden_context", "end_of_turn"},
            feedback=feedback.get(item.id, ""),
        )
        for item in items
    ]
