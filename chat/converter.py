"""Thread items to model input: the SDK's ``ThreadItemConverter`` with the fixes our models need."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from chatkit.agents import ThreadItemConverter
from chatkit.types import AssistantMessageItem, Attachment, UserMessageTagContent

from .attachments import attachment_content


class ChatConverter(ThreadItemConverter):
    """Thread items to model input, with the fixes our models need.

    * Earlier assistant text goes as a plain string: Chat Completions servers
      reject the default ``output_text`` parts on the second turn.
    * Attachments (the SDK raises ``NotImplementedError``) become what the
      model can read: see :func:`chat.attachments.attachment_content`. With
      ``images=False`` (models that read no images) an image is named, not sent.
    * @-tags become short text parts naming them.
    """

    def __init__(self, *, images: bool = True):
        self.images = images

    async def assistant_message_to_input(self, item: AssistantMessageItem):
        return {"role": "assistant", "content": "".join(part.text for part in item.content)}

    async def attachment_to_message_content(self, attachment: Attachment):
        return await sync_to_async(attachment_content)(attachment, images=self.images)

    async def tag_to_message_content(self, tag: UserMessageTagContent):
        return {"type": "input_text", "text": f"[Tagged: {tag.text}]"}
