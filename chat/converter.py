"""Thread items to model input: the SDK's ``ThreadItemConverter`` with the fixes our models need."""

from __future__ import annotations

from chatkit.agents import ThreadItemConverter
from chatkit.types import AssistantMessageItem, Attachment, UserMessageTagContent


class ChatConverter(ThreadItemConverter):
    """Thread items to model input, with the fixes our models need.

    * Earlier assistant text goes as a plain string: Chat Completions servers
      reject the default ``output_text`` parts on the second turn.
    * Attachments and @-tags (the SDK raises ``NotImplementedError``) become
      short text parts naming them.
    """

    async def assistant_message_to_input(self, item: AssistantMessageItem):
        return {"role": "assistant", "content": "".join(part.text for part in item.content)}

    async def attachment_to_message_content(self, attachment: Attachment):
        return {"type": "input_text", "text": f"[Attached file: {attachment.name} ({attachment.mime_type})]"}

    async def tag_to_message_content(self, tag: UserMessageTagContent):
        return {"type": "input_text", "text": f"[Tagged: {tag.text}]"}
