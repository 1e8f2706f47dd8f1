"""Thread items to model input: the SDK's ``ThreadItemConverter`` with the fixes our models need."""

from __future__ import annotations

import json

from asgiref.sync import sync_to_async
from chatkit.agents import ThreadItemConverter
from chatkit.types import (
    AssistantMessageItem,
    Attachment,
    HiddenContextItem,
    SDKHiddenContextItem,
    UserMessageTagContent,
    WidgetItem,
)

from .attachments import attachment_content

# The SDK's note after a stop (chatkit 1.6.5 ``handle_stream_cancelled``), said so that a small
# model takes it as a fact about the last turn rather than words to repeat.
SDK_CANCEL_NOTE = "The user cancelled the stream. Stop responding to the prior request."
CANCEL_CONTEXT = (
    "Note for the assistant: the user stopped your previous answer before it was finished. "
    "Do not continue it; answer only the user's next message."
)


class ChatConverter(ThreadItemConverter):
    """Thread items to model input, with the fixes our models need.

    * Earlier assistant text goes as a plain string: Chat Completions servers
      reject the default ``output_text`` parts on the second turn.
    * Hidden context (``HiddenContextItem``, the SDK's cancel note) goes as a
      ``system`` message, not the SDK's ``<HiddenContext>`` text in a user turn:
      the model reads it as context, not as words of the user to answer or
      repeat (issue 11: the cancel note came back inside answers).
    * A widget the assistant showed goes as the assistant's own short turn (its
      ``copy_text``, e.g. the quick-reply question and options), not the
      widget's JSON in a user turn.
    * Attachments (the SDK raises ``NotImplementedError``) become what the
      model can read: see :func:`chat.attachments.attachment_content`. With
      ``images=False`` (models that read no images) an image is named, not sent.
    * @-tags become short text parts naming them.
    """

    def __init__(self, *, images: bool = True):
        self.images = images

    async def assistant_message_to_input(self, item: AssistantMessageItem):
        return {"role": "assistant", "content": "".join(part.text for part in item.content)}

    async def hidden_context_to_input(self, item: HiddenContextItem):
        content = item.content if isinstance(item.content, str) else json.dumps(item.content, ensure_ascii=False)
        return {"role": "system", "content": content}

    async def sdk_hidden_context_to_input(self, item: SDKHiddenContextItem):
        content = CANCEL_CONTEXT if item.content.strip() == SDK_CANCEL_NOTE else item.content
        return {"role": "system", "content": content}

    async def widget_to_input(self, item: WidgetItem):
        text = item.copy_text or _widget_text(item.widget.model_dump(exclude_none=True))
        return {"role": "assistant", "content": text} if text else None

    async def attachment_to_message_content(self, attachment: Attachment):
        return await sync_to_async(attachment_content)(attachment, images=self.images)

    async def tag_to_message_content(self, tag: UserMessageTagContent):
        return {"type": "input_text", "text": f"[Tagged: {tag.text}]"}


def _widget_text(node) -> str:
    """The visible words of a widget tree (titles, texts, button labels), in order."""
    words: list[str] = []

    def walk(value) -> None:
        if isinstance(value, dict):
            for key in ("value", "label"):
                if isinstance(value.get(key), str):
                    words.append(value[key])
            for child in value.get("children") or ():
                walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)

    walk(node)
    return " / ".join(words)
